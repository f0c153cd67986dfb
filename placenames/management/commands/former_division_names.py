"""``manage.py former_division_names``: the divisions' former names from the division history as
former-name variants of today's place names (``placenames.former_divisions``)."""

from gis_portal.core.commands import ServiceCommand
from placenames.former_divisions import former_division_names_apply


class Command(ServiceCommand):
    help = (
        "Add the names divisions bore before (division history: import_division_history) as former names "
        "of today's place names, with their dates. Idempotent: replaces the ones it wrote before."
    )

    def run(self, **options):
        counts = former_division_names_apply()
        return (
            f"{counts['former_names']} former division names, {counts['names_begun']} current names with a later start"
        )
