"""What-if scenarios: the answer on the constructed district (see conftest), equal to making the
changes for real on the loaded data, writing nothing; bad input named; planners only; saved
scenarios listed for their owner and readable by every planner."""

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point

from facilities.models import Facility, NearestFacility, Scenario
from facilities.selectors import coverage_by_division
from facilities.services import facility_close, facility_create
from gis_portal.core.roles import PLANNER, REVIEWER, roles_ensure
from tests.facilities.conftest import S

pytestmark = pytest.mark.django_db

URL = "/api/v1/coverage/scenario"


def user_with(role: str | None, name: str) -> User:
    roles_ensure()
    user = User.objects.create_user(name, password="x-long-password-1")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def planner(api):
    api.force_authenticate(user_with(PLANNER, "planner1"))
    return api


def written() -> tuple:
    return (
        Facility.objects.count(),
        Facility.objects.filter(status="closed").count(),
        NearestFacility.objects.count(),
        sorted(NearestFacility.objects.values_list("demand_id", "category", "facility_id", "distance_m")),
    )


def test_adding_a_station_covers_the_community_999_m_away(scene, planner):
    before = written()
    answer = planner.post(
        URL,
        {
            "category": "elder_station",
            "district": "509901",
            "add": [{"lon": S[0], "lat": S[1], "category": "elder_station"}],
        },
        format="json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["today"]["demand_points"], body["today"]["covered"]) == (3, 0)
    assert (body["scenario"]["covered"], body["scenario"]["population_covered"]) == (1, 1000)
    assert body["change"] == {"covered": 1, "population_covered": 1000, "elderly_covered": 200, "covered_share": 0.3333}
    assert body["newly_covered"] == ["509901001001"] and body["newly_uncovered"] == []
    assert [f["properties"]["code"] for f in body["gaps"]["features"]] == ["509901001002", "509901001003"]
    assert body["added"][0]["township_code"] == "509901001" and body["added"][0]["district_code"] == "509901"
    assert written() == before  # nothing stays


def test_closing_the_only_station_uncovers_it_and_leaves_it_open(scene, add_facility, planner):
    station = add_facility("elder_station", *S)
    before = written()
    body = planner.post(URL, {"category": "elder_station", "district": "509901", "close": [station.id]}, format="json")
    body = body.json()
    assert (body["today"]["covered"], body["scenario"]["covered"]) == (1, 0)
    assert body["newly_uncovered"] == ["509901001001"]
    assert body["closed"] == [{"id": station.id, "name": station.name, "category": "elder_station", "status": "open"}]
    assert written() == before
    assert Facility.objects.get(id=station.id).status == "open"


def test_a_presence_rule_counts_the_added_facility_in_its_township(scene, planner):
    body = planner.post(
        URL,
        {"category": "cemetery", "district": "509901", "add": [{"lon": 105.15, "lat": 27.72, "category": "cemetery"}]},
        format="json",
    ).json()
    assert (body["today"]["covered"], body["scenario"]["covered"], body["newly_covered"]) == (0, 1, ["509901002"])


def test_the_region_scenario_equals_making_the_changes(planner):
    """Five stations added at the worst gaps, the station nearest to most points closed: the
    scenario's numbers are those of the real changes made afterwards through the services."""
    gaps = NearestFacility.objects.filter(category="elder_station", kind="community").order_by("-distance_m")[:5]
    sites = [{"lon": g.point.x, "lat": g.point.y, "category": "elder_station", "beds": 0} for g in gaps]
    busiest = (
        NearestFacility.objects.filter(category="elder_station", facility__isnull=False)
        .values_list("facility_id", flat=True)
        .first()
    )
    body = planner.post(URL, {"category": "elder_station", "add": sites, "close": [busiest]}, format="json").json()
    assert body["today"]["demand_points"] == 3324
    for site in sites:
        facility_create(name="real", category="elder_station", point=Point(site["lon"], site["lat"], srid=4326))
    facility_close(facility=Facility.objects.get(id=busiest))
    real = coverage_by_division(category="elder_station", group_by="municipality")["results"][0]
    assert body["scenario"]["covered"] == real["covered"]
    assert body["scenario"]["population_covered"] == real["population_covered"]
    assert body["change"]["covered"] == real["covered"] - body["today"]["covered"]
    assert body["change"]["covered"] >= 5 - 1  # the five gaps are covered now; the closure may cost some


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (
            {"add": [{"lon": 116.4, "lat": 39.9, "category": "elder_station"}]},
            "add[0]: the point (116.4, 39.9) is outside",
        ),
        (
            {"add": [{"lon": 105.5, "lat": 27.9, "category": "elder_station"}]},
            "add[0]: the point (105.5, 27.9) is outside",
        ),
        (
            {
                "add": [
                    S and {"lon": S[0], "lat": S[1], "category": "elder_station"},
                    {"lon": S[0], "lat": S[1], "category": "hospital"},
                ]
            },
            "add[1]: category 'hospital'",
        ),
        ({"close": [987654321]}, "close: no facility with id 987654321"),
        ({"category": "hospital"}, "hospital"),
    ],
)
def test_bad_input_is_named_and_nothing_is_written(scene, planner, body, named):
    before = written()
    answer = planner.post(URL, {"category": "elder_station", "district": "509901"} | body, format="json")
    assert answer.status_code == 400, answer.content
    assert named in answer.json()["error"]["message"]
    assert written() == before


def test_only_signed_in_planners(api, scene):
    body = {"category": "elder_station", "district": "509901"}
    assert api.post(URL, body, format="json").status_code in (401, 403)
    api.force_authenticate(user_with(REVIEWER, "reviewer1"))
    answer = api.post(URL, body, format="json")
    assert answer.status_code == 403 and "planners" in answer.json()["error"]["message"]
    assert api.get("/api/v1/coverage/scenarios").status_code == 403


def test_saved_scenarios_are_listed_for_their_owner_and_shared_with_planners(api, scene):
    owner, other = user_with(PLANNER, "owner1"), user_with(PLANNER, "other1")
    api.force_authenticate(owner)
    definition = {
        "name": "测试区新站",
        "category": "elder_station",
        "district": "509901",
        "add": [{"lon": S[0], "lat": S[1], "category": "elder_station"}],
    }
    saved = api.post("/api/v1/coverage/scenarios", definition, format="json")
    assert saved.status_code == 201, saved.content
    scenario = saved.json()
    assert scenario["url"] == f"/coverage/?scenario={scenario['id']}" and scenario["owner"] == "owner1"
    assert [s["name"] for s in api.get("/api/v1/coverage/scenarios").json()["results"]] == ["测试区新站"]
    assert api.post("/api/v1/coverage/scenarios", definition | {"name": " "}, format="json").status_code == 400
    api.force_authenticate(other)
    assert api.get("/api/v1/coverage/scenarios").json()["results"] == []
    shared = api.get(f"/api/v1/coverage/scenarios/{scenario['id']}").json()
    assert shared["name"] == "测试区新站" and shared["result"]["change"]["covered"] == 1
    assert api.get("/api/v1/coverage/scenarios/987654321").status_code == 404
    assert Scenario.objects.count() == 1
