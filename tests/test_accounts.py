"""Sign-in, roles, token auth and failed-login throttling."""

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from gis_portal.core.roles import ADMINISTRATOR, REVIEWER, SURVEYOR, user_has_role

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture
def surveyor():
    user = User.objects.create_user("surveyor1", password=PASSWORD)
    user.groups.add(Group.objects.get(name=SURVEYOR))
    return user


def test_roles_exist_and_are_exclusive(surveyor):
    assert set(Group.objects.values_list("name", flat=True)) >= {SURVEYOR, REVIEWER, ADMINISTRATOR}
    assert user_has_role(surveyor, SURVEYOR)
    assert not user_has_role(surveyor, REVIEWER)
    admin = User.objects.create_user("admin1", password=PASSWORD)
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
    assert user_has_role(admin, REVIEWER) and user_has_role(admin, SURVEYOR)


def test_sign_in_page_signs_in_and_out(client, surveyor):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    response = client.post("/accounts/login/", {"username": "surveyor1", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "surveyor1"
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated


def test_wrong_password_shows_a_message(client, surveyor):
    response = client.post("/accounts/login/", {"username": "surveyor1", "password": "nope"})
    assert response.status_code == 200
    assert "不匹配" in response.content.decode() or "did not match" in response.content.decode()


def test_repeated_failures_lock_the_account_out(client, surveyor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/accounts/login/", {"username": "surveyor1", "password": "nope"}).status_code == 200
    locked = client.post("/accounts/login/", {"username": "surveyor1", "password": "nope"})
    assert locked.status_code == 429
    # Even the right password is refused while locked out.
    assert client.post("/accounts/login/", {"username": "surveyor1", "password": PASSWORD}).status_code == 429


def test_api_token_and_lock_out_answer_json(surveyor, settings):
    api = APIClient()
    token = api.post("/api/v1/auth/token", {"username": "surveyor1", "password": PASSWORD})
    assert token.status_code == 200 and len(token.json()["token"]) == 40
    bad = api.post("/api/v1/auth/token", {"username": "surveyor1", "password": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = api.post("/api/v1/auth/token", {"username": "surveyor1", "password": "nope"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] in {"locked_out", "throttled"}
