"""``manage.py apply_due_proposals``: apply the approved division change proposals whose effective
date has come (``boundaries.proposal_services.proposals_apply_due``); run it daily (cron or a systemd
timer) shortly after midnight, so that a change takes effect in the current tables on its day."""

import datetime

from django.utils import timezone

from boundaries.proposal_services import proposals_apply_due
from gis_portal.core.commands import ServiceCommand


class Command(ServiceCommand):
    help = "Apply the approved division change proposals due on or before today (each in its own transaction)."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=datetime.date.fromisoformat, default=None, help="YYYY-MM-DD (tests)")

    def run(self, **options):
        applied = proposals_apply_due(today=options["today"] or timezone.localdate())
        return f"{len(applied)} proposal(s) applied" + (f": {', '.join(map(str, applied))}" if applied else "")
