"""Reads for the account pages: the accounts with their roles and teams, and who did what — the
admin log (accounts, admin edits) and the recorded history of uploads, markers and place names."""

from itertools import chain, islice

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.db.models import QuerySet
from rest_framework.authtoken.models import Token

from boundaries.models import DivisionProposal, Marker
from boundaries.surveys.models import SurveyUpload
from gis_portal.core.roles import ADMINISTRATOR, REVIEWER, SURVEYOR
from placenames.models import PlaceName

HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def account_list() -> QuerySet[User]:
    return User.objects.order_by("username").prefetch_related("groups", "survey_teams")


def account_rows() -> list[dict]:
    """Each account with its roles, teams, whether it is active and holds an API token."""
    roles = (SURVEYOR, REVIEWER, ADMINISTRATOR)
    with_token = set(Token.objects.values_list("user_id", flat=True))
    rows = []
    for user in account_list():
        groups = {g.name for g in user.groups.all()}
        rows.append(
            {
                "username": user.username,
                "roles": [r for r in roles if r in groups] + (["superuser"] if user.is_superuser else []),
                "teams": [t.name for t in user.survey_teams.all()],
                "active": user.is_active,
                "last_login": user.last_login,
                "has_token": user.pk in with_token,
            }
        )
    return rows


def audit_recent(*, limit: int = 100) -> list[dict]:
    """The latest recorded actions, newest first: admin log entries, and the history of survey
    uploads, markers, place names and division change proposals (django-simple-history)."""
    entries = (
        {
            "when": e.action_time,
            "who": e.user.get_username() if e.user else None,
            "what": f"{e.content_type.name if e.content_type else ''} {e.object_repr}".strip(),
            "action": e.get_change_message() or {1: "added", 2: "changed", 3: "deleted"}.get(e.action_flag, ""),
        }
        for e in LogEntry.objects.select_related("user", "content_type").order_by("-action_time")[:limit]
    )
    histories = []
    audited = (
        (SurveyUpload, "survey upload"),
        (Marker, "boundary marker"),
        (PlaceName, "place name"),
        (DivisionProposal, "division change proposal"),
    )
    for model, label in audited:
        for h in model.history.select_related("history_user").order_by("-history_date")[:limit]:
            histories.append(
                {
                    "when": h.history_date,
                    "who": h.history_user.get_username() if h.history_user else None,
                    "what": f"{label} {h}",
                    "action": HISTORY_TYPES.get(h.history_type, h.history_type)
                    + (f": {h.history_change_reason}" if h.history_change_reason else ""),
                }
            )
    return list(islice(sorted(chain(entries, histories), key=lambda a: a["when"], reverse=True), limit))
