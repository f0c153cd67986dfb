from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Long work as jobs: a Job row the pages show (status, progress, result), run by procrastinate
    workers on PostgreSQL. It imports no app of the project; apps register their tasks with it."""

    name = "gis_portal.jobs"
    label = "jobs"
    verbose_name = "Jobs"
    default_auto_field = "django.db.models.BigAutoField"
