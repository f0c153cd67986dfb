"""``manage.py import_division_history``: the yearly division lists as dated versions with their
change events (``boundaries.history.division_history_import``)."""

import datetime
from pathlib import Path

from boundaries.history import DivisionListFile, chongqing_list_files, division_history_import
from gis_portal.core.commands import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Import the yearly division lists (default: Chongqing 2019-2023 in fixtures/chongqing) as dated "
        "versions and derive the change events between them. The last list must be the current state "
        "(import_divisions). Atomic and idempotent; staff reviews of links derived again are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--list",
            action="append",
            metavar="YYYY-MM-DD=FILE.csv",
            help="a list and the date it is as of, oldest first (repeat); default: the Chongqing lists",
        )

    def run(self, **options):
        files = chongqing_list_files()
        if options["list"]:
            files = []
            for item in options["list"]:
                day, _, path = item.partition("=")
                try:
                    as_of = datetime.date.fromisoformat(day)
                except ValueError:
                    raise self.usage_error(f"--list {item!r}: expected YYYY-MM-DD=FILE.csv") from None
                files.append(DivisionListFile(as_of=as_of, path=Path(path), source=Path(path).name))
        return division_history_import(files=files)

    def usage_error(self, message: str):
        from django.core.management.base import CommandError

        return CommandError(message)
