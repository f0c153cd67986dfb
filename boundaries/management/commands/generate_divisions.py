"""``manage.py generate_divisions``: generate township polygons, village/community points and
population (``boundaries.synthetic.divisions_generate_synthetic``)."""

from django.conf import settings

from boundaries.synthetic import divisions_generate_synthetic
from gis_portal.core.commands import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Generate township polygons, village/community points and population inside the real "
        "district polygons (deterministic in --seed; every generated row is flagged is_synthetic)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=settings.SYNTHETIC_SEED)

    def run(self, **options):
        return divisions_generate_synthetic(seed=options["seed"])
