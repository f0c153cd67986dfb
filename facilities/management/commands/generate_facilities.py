from django.conf import settings

from facilities.synthetic import facilities_generate_synthetic
from gis_portal.core.commands import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Generate facilities of every category inside the divisions (deterministic in --seed; every "
        "generated row is flagged is_synthetic and replaced on a re-run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=settings.SYNTHETIC_SEED)

    def run(self, **options):
        return facilities_generate_synthetic(seed=options["seed"])
