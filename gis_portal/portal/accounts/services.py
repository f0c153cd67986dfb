"""Accounts for the bureau's teams, given by administrators: create a user with a role (and, for
a surveyor, a survey team), reset a password, deactivate, revoke API tokens. Each change is
recorded in Django's admin log (who did what to whom, when), which the audit page shows."""

import logging
import secrets

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser, Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from boundaries.models import SurveyTeam
from gis_portal.core.errors import Conflict, InvalidParameter, NotFound
from gis_portal.core.roles import ADMINISTRATOR, NAMING_OFFICER, REVIEWER, SURVEYOR

logger = logging.getLogger(__name__)

ROLES = (SURVEYOR, REVIEWER, NAMING_OFFICER, ADMINISTRATOR)


def _audit(*, actor: AbstractBaseUser | None, user: User, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=actor.pk if actor is not None else user.pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )
    logger.info("account %s: %s (by %s)", user.username, message, actor.username if actor else "a command")


def _password_new() -> str:
    """A password to hand over once: 20 random characters of letters and digits."""
    return secrets.token_urlsafe(15)


def _user_get(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"no account {username[:150]!r}")
    return user


@transaction.atomic
def account_create(
    *, username: str, role: str, team: str | None = None, actor: AbstractBaseUser | None = None
) -> tuple[User, str]:
    """A new active account with ``role`` and, for a surveyor, membership of ``team`` (created if it
    does not exist yet). Returns the user and a generated password, shown once to the administrator."""
    username = username.strip()
    if not username or len(username) > 150:
        raise InvalidParameter("username: 1 to 150 characters")
    if role not in ROLES:
        raise InvalidParameter(f"role: one of {', '.join(ROLES)}")
    if role == SURVEYOR and not (team or "").strip():
        raise InvalidParameter("team: a surveyor belongs to a survey team")
    if User.objects.filter(username=username).exists():
        raise Conflict(f"the account {username!r} exists already")
    password = _password_new()
    user = User.objects.create_user(username=username, password=password, is_staff=role == ADMINISTRATOR)
    user.groups.add(Group.objects.get(name=role))
    if team:
        survey_team, _ = SurveyTeam.objects.get_or_create(name=team.strip()[:128])
        survey_team.members.add(user)
    _audit(actor=actor, user=user, message=f"created with role {role}" + (f" in team {team}" if team else ""))
    return user, password


@transaction.atomic
def account_password_reset(*, username: str, actor: AbstractBaseUser | None = None) -> str:
    """A new generated password for the account (returned, shown once); its API tokens go."""
    user = _user_get(username)
    password = _password_new()
    try:
        validate_password(password, user)
    except ValidationError as exc:  # a generated password always passes; say so if the rules change
        raise InvalidParameter("; ".join(exc.messages)) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    Token.objects.filter(user=user).delete()
    _audit(actor=actor, user=user, message="password reset; API tokens revoked")
    return password


@transaction.atomic
def account_deactivate(*, username: str, actor: AbstractBaseUser | None = None) -> User:
    """The account can no longer sign in; its API tokens go; its history stays."""
    user = _user_get(username)
    if actor is not None and user.pk == actor.pk:
        raise InvalidParameter("you cannot deactivate your own account")
    user.is_active = False
    user.save(update_fields=["is_active"])
    Token.objects.filter(user=user).delete()
    _audit(actor=actor, user=user, message="deactivated; API tokens revoked")
    return user


@transaction.atomic
def account_tokens_revoke(*, username: str, actor: AbstractBaseUser | None = None) -> int:
    """Delete the account's API tokens (it signs in again for a new one); returns how many."""
    user = _user_get(username)
    revoked, _ = Token.objects.filter(user=user).delete()
    _audit(actor=actor, user=user, message=f"{revoked} API token(s) revoked")
    return revoked
