"""The facilities admin: a Leaflet map widget without CDN, derived divisions on save, and the
coverage standards editable as data."""

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point

from facilities.models import CoverageStandard, Facility
from facilities.selectors import coverage_by_division
from facilities.services import facility_create
from tests.helpers import EXTERNAL_ASSET

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw-for-tests-only"))
    return client


def test_add_a_facility_on_the_map_derives_its_township(admin_client, scene):
    page = admin_client.get("/admin/facilities/facility/add/")
    html = page.content.decode()
    assert page.status_code == 200 and "leaflet/leaflet.js" in html and not EXTERNAL_ASSET.search(html)
    response = admin_client.post(
        "/admin/facilities/facility/add/",
        {"name": "后台公墓", "category": "cemetery", "operator": "public", "status": "open",
         "point": Point(105.15, 27.72, srid=4326).geojson, "source": "admin"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    facility = Facility.objects.get(name="后台公墓")
    assert (facility.division_id, facility.district_id) == (scene.town.id, scene.district.id)


def test_staff_edit_a_standard(admin_client, scene):
    standard = CoverageStandard.objects.get(category="funeral_home", kind="presence")
    form = {
        "category": "funeral_home", "kind": "presence", "radius_urban_m": "", "radius_rural_m": "",
        "demand_kind": "all", "level": "district", "division_kinds": "", "min_count": "2",
        "beds_per_1000_elderly": "", "description": standard.description, "source": standard.source, "active": "on",
    }  # fmt: skip
    response = admin_client.post(f"/admin/facilities/coveragestandard/{standard.id}/change/", form)
    assert response.status_code == 302
    facility_create(name="一号", category="funeral_home", point=Point(105.15, 27.72, srid=4326))
    (row,) = coverage_by_division(category="funeral_home", district_code="509901")["results"]
    assert (row["facilities"], row["covered"], row["rule"]) == (1, 0, "presence: at least 2 per district")
