"""``manage.py generate_inspections``: generate markers, survey teams and the inspection history of
the lines (``boundaries.line_synthetic.inspections_generate_synthetic``)."""

from django.conf import settings

from boundaries.line_synthetic import inspections_generate_synthetic
from gis_portal.core.commands import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Generate boundary markers, survey teams, inspection rounds and history, problems and disputes "
        "for the derived lines (deterministic in --seed; every generated row is flagged is_synthetic)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=settings.SYNTHETIC_SEED)

    def run(self, **options):
        return inspections_generate_synthetic(seed=options["seed"])
