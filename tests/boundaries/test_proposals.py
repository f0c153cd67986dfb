"""Division change proposals through /api/v1/division-proposals: a planner drafts and submits (the
impact stored then), an administrator approves or rejects; who may read and do what; bad proposals
answer 400 naming the reason and change nothing; every step is in the proposal's history."""

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from boundaries.models import BoundaryLine, Division, DivisionProposal
from gis_portal.core.roles import ADMINISTRATOR, PLANNER, SURVEYOR
from gis_portal.portal.accounts.selectors import audit_recent
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
URL = "/api/v1/division-proposals"
GUNAN, XINSHENG = "500110001", "500110006"  # 古南街道 and 新盛街道 (綦江区), adjacent in the generated polygons
YUZHONG_STREET = "500103001"  # a street of 渝中区


def user_with_role(username: str, role: str | None) -> User:
    user = User.objects.create_user(username, password="proposal-Pa55word")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def planner(db):
    return user_with_role("planner-a", PLANNER)


@pytest.fixture
def admin(db):
    return user_with_role("admin-a", ADMINISTRATOR)


def merger(client, **fields):
    body = {"kind": "merge", "units": [XINSHENG, GUNAN], "new_name": "南州街道", "new_kind": "street"} | fields
    return client.post(URL, body, format="json")


def test_a_planner_drafts_and_submits_and_an_administrator_approves(planner, admin):
    created = merger(client_for(planner), title="古南、新盛合并", reason="同城发展")
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert (body["status"], body["units"], body["district_code"], body["author"]) == (
        "draft",
        [GUNAN, XINSHENG],
        "500110",
        "planner-a",
    )
    assert body["impact"] is None
    # Drafts are the author's own: not the public's, nor another planner's.
    assert_error(client_for(None).get(f"{URL}/{pk}"), 404, "not_found")
    assert_error(client_for(user_with_role("planner-b", PLANNER)).get(f"{URL}/{pk}"), 404, "not_found")
    assert pk not in [p["id"] for p in client_for(None).get(URL).json()]
    assert [p["id"] for p in client_for(planner).get(URL, {"status": "draft"}).json()] == [pk]

    submitted = client_for(planner).post(f"{URL}/{pk}/submit")
    assert submitted.status_code == 200, submitted.content
    impact = submitted.json()["impact"]
    units = Division.objects.filter(code__in=[GUNAN, XINSHENG])
    villages = Division.objects.filter(parent__in=units)
    assert impact["area_m2"] == pytest.approx(sum(u.area_m2 for u in units), abs=1)
    assert impact["population"] == villages.aggregate(n=Sum("population"))["n"]
    assert impact["population"] == sum(u["population"] for u in impact["units"])
    assert [line["code"] for line in impact["lines_retired"]] == [f"{GUNAN}-{XINSHENG}"]
    assert impact["new_unit"] == {"name": "南州街道", "code": None, "kind": "street"}
    assert impact["standards"]["result"] in ("met", "not_met", "figures_missing")
    # Submitted: other planners read it; the public still does not; a planner cannot approve.
    assert client_for(user_with_role("planner-c", PLANNER)).get(f"{URL}/{pk}").status_code == 200
    assert_error(client_for(None).get(f"{URL}/{pk}"), 404, "not_found")
    assert_error(client_for(planner).post(f"{URL}/{pk}/approve", {}, format="json"), 403, "forbidden")
    assert client_for(None).post(f"{URL}/{pk}/approve", {}, format="json").status_code in (401, 403)
    # Once submitted, the draft is no longer edited.
    assert_error(client_for(planner).patch(f"{URL}/{pk}", {"new_name": "X街道"}, format="json"), 409, "conflict")

    today = timezone.localdate()
    approved = client_for(admin).post(f"{URL}/{pk}/approve", {"effective_date": str(today + datetime.timedelta(30))})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["approver"]) == ("approved", "admin-a")
    assert client_for(None).get(f"{URL}/{pk}").json()["status"] == "approved"  # decided: public
    # A day to come is only set: nothing changes until it is due.
    scheduled = client_for(admin).post(f"{URL}/{pk}/apply", {}, format="json")
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "approved"
    assert Division.objects.filter(code__in=[GUNAN, XINSHENG]).count() == 2

    # Every step is in the proposal's history, with who did it; the audit page lists them.
    steps = list(
        DivisionProposal.history.filter(id=pk)
        .order_by("history_date")
        .values_list("history_change_reason", "history_user__username")
    )
    assert steps == [
        ("create", "planner-a"),
        ("submit", "planner-a"),
        ("approve", "admin-a"),
        (f"scheduled for {today + datetime.timedelta(30)}", "admin-a"),
    ]
    assert any(a["what"].startswith("division change proposal") and a["who"] == "admin-a" for a in audit_recent())


def test_reject_and_withdraw(planner, admin):
    pk = merger(client_for(planner)).json()["id"]
    client_for(planner).post(f"{URL}/{pk}/submit")
    assert_error(client_for(admin).post(f"{URL}/{pk}/reject", {"note": ""}, format="json"), 400)
    rejected = client_for(admin).post(f"{URL}/{pk}/reject", {"note": "人口不足"}, format="json")
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_note"] == "人口不足"
    assert_error(client_for(admin).post(f"{URL}/{pk}/approve", {}, format="json"), 409, "conflict")
    other = merger(client_for(planner)).json()["id"]
    assert_error(client_for(user_with_role("planner-d", PLANNER)).post(f"{URL}/{other}/withdraw"), 404, "not_found")
    assert client_for(planner).post(f"{URL}/{other}/withdraw").json()["status"] == "withdrawn"


def test_only_planners_draft(db):
    for user in (None, user_with_role("a-surveyor", SURVEYOR)):
        response = merger(client_for(user))
        assert response.status_code in (401, 403)
    assert DivisionProposal.objects.count() == 0


def test_a_planner_edits_the_draft_then_submits(planner):
    pk = merger(client_for(planner)).json()["id"]
    edited = client_for(planner).patch(f"{URL}/{pk}", {"new_name": "綦南街道"}, format="json")
    assert edited.status_code == 200, edited.content
    assert (edited.json()["new_name"], edited.json()["units"]) == ("綦南街道", [GUNAN, XINSHENG])
    assert client_for(planner).post(f"{URL}/{pk}/submit").json()["impact"]["new_unit"]["name"] == "綦南街道"


def _apart_from(code: str) -> str:
    return next(
        other
        for other in Division.objects.filter(parent__code=code[:6], level="township").values_list("code", flat=True)
        if other != code and not BoundaryLine.objects.filter(code__in=[f"{code}-{other}", f"{other}-{code}"]).exists()
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"units": [GUNAN, YUZHONG_STREET]}, "district-level change"),
        ({"units": [GUNAN, "APART"]}, "one area"),
        ({"units": [GUNAN, "500110999"]}, "no current township 500110999"),
        ({"new_code": XINSHENG}, "already the code"),
        ({"new_name": ""}, "new_name"),
        ({"effective_date": "2023-06-30"}, "must be after 2023-06-30"),
    ],
)
def test_invalid_proposals_are_refused_on_submission_naming_the_reason(planner, fields, reason):
    if fields.get("units") == [GUNAN, "APART"]:
        fields = {"units": [GUNAN, _apart_from(GUNAN)]}
    pk = merger(client_for(planner), **fields).json()["id"]
    response = client_for(planner).post(f"{URL}/{pk}/submit")
    assert_error(response, 400)
    assert reason in response.json()["error"]["message"]
    proposal = DivisionProposal.objects.get(pk=pk)
    assert (proposal.status, proposal.impact) == ("draft", None)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"units": [GUNAN]}, "at least two townships"),
        ({"units": ["12345"]}, "nine-digit"),
        ({"units": [GUNAN, "５００１１０００６"]}, "nine-digit"),  # full-width digits are not a code
        ({"new_code": "５００１１０９０１"}, "nine-digit"),
        ({"new_kind": "village"}, "new_kind"),
        ({"kind": "abolish"}, "kind"),  # not a kind of proposal
        ({"kind": "rename", "units": [GUNAN, XINSHENG]}, "exactly one township"),
        ({"stated_figures": {"fiscal": 1}}, "not asked for"),
        ({"effective_date": "2026-02-30"}, "effective_date"),
        ({"new_code": "500103900"}, "district's code"),
    ],
)
def test_malformed_drafts_are_400(planner, fields, reason):
    response = merger(client_for(planner), **fields)
    assert_error(response, 400)
    assert reason in response.json()["error"]["message"]
    assert DivisionProposal.objects.count() == 0


def test_a_kind_change_checks_the_kind_and_the_standards(planner):
    town = Division.objects.filter(level="township", kind="town").order_by("code").first()
    street = Division.objects.filter(level="township", kind="street").order_by("code").first()
    wrong = client_for(planner).post(URL, {"kind": "township_to_town", "units": [street.code]}, format="json")
    pk = wrong.json()["id"]
    response = client_for(planner).post(f"{URL}/{pk}/submit")
    assert_error(response, 400)
    assert "starts from a township" in response.json()["error"]["message"]
    body = {"kind": "town_to_street", "units": [town.code], "stated_figures": {"seat_nonagricultural_share": 0.9}}
    pk = client_for(planner).post(URL, body, format="json").json()["id"]
    impact = client_for(planner).post(f"{URL}/{pk}/submit").json()["impact"]
    assert impact["new_unit"]["name"] == town.name[:-1] + "街道"
    assert impact["new_unit"]["kind"] == "street"
    assert impact["population"] == Division.objects.filter(parent=town).aggregate(n=Sum("population"))["n"]
    assert impact["standards"] is not None
