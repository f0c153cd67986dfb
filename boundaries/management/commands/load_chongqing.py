from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from boundaries.models import Division
from gis_portal.commands import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Load the Chongqing data the service starts with: the real divisions, then the generated "
        "data. Skips what is already loaded unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="re-import and regenerate everything")

    @transaction.atomic
    def run(self, **options):
        loaded = Division.objects.filter(level=Division.Level.DISTRICT, geom__isnull=False).count() == 38
        if options["force"] or not loaded:
            call_command("import_divisions", stdout=self.stdout)
        missing_generated = Division.objects.filter(
            level__in=[Division.Level.TOWNSHIP, Division.Level.VILLAGE], point__isnull=True
        ).exists()
        if options["force"] or missing_generated:
            call_command("generate_divisions", seed=settings.SYNTHETIC_SEED, stdout=self.stdout)
        return "Chongqing data loaded"
