"""``manage.py generate_office``: the office's heritage names and generated demo signs."""

from gis_portal.core.commands import ServiceCommand
from placenames.office.synthetic import office_data_generate


class Command(ServiceCommand):
    help = "Heritage names and synthetic place-name signs (some wrong, damaged or missing); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=None, help="default: SYNTHETIC_SEED")

    def run(self, **options):
        return office_data_generate(seed=options["seed"])
