"""What the public sees of a line's record: dates, results, checks, problems' kinds and places; the
findings of inspections and the descriptions of problems (reviewers' remarks, survey details) only
signed-in staff (security review, finding 11)."""

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from boundaries.models import BoundaryLine, BoundaryProblem, Inspection
from gis_portal.core.roles import REVIEWER

pytestmark = pytest.mark.django_db
REMARK, DESCRIPTION = "审核意见：内部", "界桩被挖，村民称系施工所致"


@pytest.fixture
def line():
    line = BoundaryLine.objects.get(code="500101-500154")
    Inspection.objects.create(line=line, date=datetime.date(2026, 11, 1), result="problem", findings=REMARK)
    BoundaryProblem.objects.create(
        line=line, point=Point(108.5, 30.9, srid=4326), kind="marker", reported=datetime.date(2026, 11, 1),
        description=DESCRIPTION,
    )  # fmt: skip
    return line


def test_the_public_sees_results_not_remarks(api, client, line):
    body = api.get(f"/api/v1/boundary-lines/{line.code}").json()["properties"]
    newest = body["inspections"][0]
    assert newest["date"] == "2026-11-01" and newest["result"] == "problem" and newest["findings"] is None
    assert all(i["findings"] is None for i in body["inspections"])
    assert body["problems"][0]["kind"] == "marker" and body["problems"][0]["description"] is None
    page = client.get(f"/inspections/lines/{line.code}/").content.decode()
    assert REMARK not in page and DESCRIPTION not in page


def test_signed_in_staff_see_the_remarks(client, line):
    reviewer = User.objects.create_user("reviewer9", password="x")
    reviewer.groups.add(Group.objects.get(name=REVIEWER))
    staff = APIClient()
    staff.force_authenticate(reviewer)
    body = staff.get(f"/api/v1/boundary-lines/{line.code}").json()["properties"]
    assert body["inspections"][0]["findings"] == REMARK and body["problems"][0]["description"] == DESCRIPTION
    client.force_login(reviewer)
    page = client.get(f"/inspections/lines/{line.code}/").content.decode()
    assert REMARK in page and DESCRIPTION in page
    # Signed in without a role is the public.
    client.force_login(User.objects.create_user("visitor", password="x"))
    assert REMARK not in client.get(f"/inspections/lines/{line.code}/").content.decode()
