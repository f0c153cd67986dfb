"""Accounts for the teams: administrators create, reset, deactivate and revoke from a page and a
command; everyone else is refused; every change shows in the audit."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from boundaries.models import SurveyTeam
from gis_portal.core.roles import ADMINISTRATOR, SURVEYOR, user_has_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(client):
    user = User.objects.create_user("chief", password="x")
    user.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client.force_login(user)
    return user


def test_an_administrator_starts_a_survey_team_from_the_page(client, administrator):
    page = client.post("/accounts/manage/", {"action": "create", "username": "wang", "role": SURVEYOR, "team": "五队"})
    assert page.status_code == 200
    password = page.context["password"]
    wang = User.objects.get(username="wang")
    assert user_has_role(wang, SURVEYOR) and SurveyTeam.objects.get(name="五队").members.filter(pk=wang.pk).exists()
    assert wang.check_password(password) and len(password) >= 20
    # The new surveyor signs in and gets a token; the administrator resets the password: the token goes.
    client.logout()
    assert client.post("/accounts/login/", {"username": "wang", "password": password}).status_code == 302
    Token.objects.create(user=wang)
    client.force_login(administrator)
    reset = client.post("/accounts/manage/", {"action": "reset_password", "username": "wang"})
    wang.refresh_from_db()
    assert wang.check_password(reset.context["password"]) and not wang.check_password(password)
    assert not Token.objects.filter(user=wang).exists()
    client.post("/accounts/manage/", {"action": "deactivate", "username": "wang"})
    assert not User.objects.get(username="wang").is_active
    audit = client.get("/accounts/audit/").content.decode()
    for done in ("created with role surveyor in team 五队", "password reset", "deactivated"):
        assert done in audit


def test_a_surveyor_needs_a_team_and_names_are_unique(client, administrator):
    no_team = client.post("/accounts/manage/", {"action": "create", "username": "li", "role": SURVEYOR})
    assert no_team.status_code == 400 and "team" in no_team.context["error"]
    client.post("/accounts/manage/", {"action": "create", "username": "li", "role": "reviewer"})
    again = client.post("/accounts/manage/", {"action": "create", "username": "li", "role": "reviewer"})
    assert again.status_code == 409 and not User.objects.filter(username="li", groups__name=SURVEYOR).exists()


def test_only_administrators_manage_accounts(client):
    surveyor = User.objects.create_user("zhao", password="x")
    surveyor.groups.add(Group.objects.get(name=SURVEYOR))
    client.force_login(surveyor)
    assert client.get("/accounts/manage/").status_code == 403
    assert client.post("/accounts/manage/", {"action": "deactivate", "username": "zhao"}).status_code == 403
    assert User.objects.get(username="zhao").is_active
    client.logout()
    assert client.get("/accounts/manage/").status_code == 302  # to the sign-in page


def test_the_command_does_the_same(capsys):
    call_command("account", "create", "sun", "--role", "reviewer")
    assert "password, shown only now" in capsys.readouterr().out
    call_command("account", "revoke-tokens", "sun")
    call_command("account", "list")
    assert "sun" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no account 'nobody'"):
        call_command("account", "deactivate", "nobody")
