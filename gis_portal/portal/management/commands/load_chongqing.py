"""The data the service starts with, across the apps: a project-level command, so that no app
depends on the others to load."""

from django.core.management import call_command
from django.db import transaction

from boundaries.division_changes import CHONGQING_SNAPSHOTS
from boundaries.history_models import DivisionList
from boundaries.models import BoundaryLine, Division, Inspection
from facilities.models import Facility
from gis_portal.core.commands import ServiceCommand
from gis_portal.core.progress import progress
from placenames.former_divisions import former_division_names_loaded
from placenames.office.synthetic import office_data_generated
from placenames.services import gazetteer_is_built


def divisions_loaded() -> bool:
    return Division.objects.filter(level=Division.Level.DISTRICT, geom__isnull=False).count() == 38


def divisions_generated() -> bool:
    return not Division.objects.filter(
        level__in=[Division.Level.TOWNSHIP, Division.Level.VILLAGE], point__isnull=True
    ).exists()


def division_history_loaded() -> bool:
    return DivisionList.objects.count() == len(CHONGQING_SNAPSHOTS)


def boundary_lines_derived() -> bool:
    return BoundaryLine.objects.filter(level=BoundaryLine.Level.PROVINCE).count() == 5


def inspections_generated() -> bool:
    return Inspection.objects.exists()


def facilities_generated() -> bool:
    return Facility.objects.filter(is_synthetic=True).exists()


# The data the service starts with, in order: (command, check that tells it is already loaded).
# Each app adds its own step here; every command is atomic and idempotent on its own.
STEPS = [
    ("import_divisions", divisions_loaded),
    ("generate_divisions", divisions_generated),
    ("import_division_history", division_history_loaded),
    ("derive_boundary_lines", boundary_lines_derived),
    ("generate_inspections", inspections_generated),
    ("build_gazetteer", gazetteer_is_built),
    ("former_division_names", former_division_names_loaded),
    ("generate_facilities", facilities_generated),
    ("generate_office", office_data_generated),
]


class Command(ServiceCommand):
    help = "Load the Chongqing data the service starts with; skips what is already loaded unless --force."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run every step again")

    @transaction.atomic
    def run(self, **options):
        for command, is_loaded in progress(STEPS, desc="loading Chongqing"):
            if options["force"] or not is_loaded():
                call_command(command, stdout=self.stdout)
        return "Chongqing data loaded"
