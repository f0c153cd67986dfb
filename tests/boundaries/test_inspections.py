"""Inspection status on frozen dates, the roll-ups, the generated history and the API."""

import datetime

import pytest
import time_machine

from boundaries.models import BoundaryLine, BoundaryProblem, Inspection, Marker, SurveyTeam, TriJunction
from boundaries.selectors import boundary_line_list, inspection_summary
from tests.boundaries.queries import rows
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

# Noon in Chongqing (UTC+8), so the local date is the one named.
NOON = "T04:00:00Z"


def test_next_due_and_overdue_on_frozen_dates(api):
    line = BoundaryLine.objects.get(code="500103-500105")
    line.last_inspected = datetime.date(2021, 6, 30)
    line.save()
    with time_machine.travel("2026-06-30" + NOON, tick=False):
        props = api.get("/api/v1/boundary-lines/500103-500105").json()["properties"]
        assert props["next_due"] == "2026-06-30"
        assert props["overdue"] is False  # due today, not past it
    with time_machine.travel("2026-07-01" + NOON, tick=False):
        props = api.get("/api/v1/boundary-lines/500103-500105").json()["properties"]
        assert props["overdue"] is True
        codes = [
            f["properties"]["code"]
            for f in api.get("/api/v1/boundary-lines", {"level": "county", "overdue": "true"}).json()["features"]
        ]
        assert "500103-500105" in codes
    # A leap day: five years on is 28 February.
    line.last_inspected = datetime.date(2020, 2, 29)
    line.save()
    assert boundary_line_list(today=datetime.date(2025, 3, 1)).get(pk=line.pk).next_due == datetime.date(2025, 2, 28)
    line.last_inspected = None
    line.save()
    never = boundary_line_list(today=datetime.date(2020, 1, 1)).get(pk=line.pk)
    assert never.next_due is None and never.overdue is True


@pytest.mark.parametrize("level", [None, "province", "county", "township"])
def test_rollups_add_up(level):
    today = datetime.date(2026, 11, 29)
    by_district = inspection_summary(group_by="district", today=today, level=level)
    by_cluster = inspection_summary(group_by="cluster", today=today, level=level)
    lines = BoundaryLine.objects.all() if level is None else BoundaryLine.objects.filter(level=level)
    for field in ("lines", "inspected_in_cycle", "overdue", "with_open_problems"):
        district_sum = sum(row[field] for row in by_district["rows"])
        cluster_sum = sum(row[field] for row in by_cluster["rows"])
        assert district_sum == cluster_sum == by_district["total"][field] == by_cluster["total"][field]
    assert by_cluster["total"]["length_m"] == pytest.approx(sum(r["length_m"] for r in by_district["rows"]), abs=1)
    assert by_cluster["total"]["length_m"] == pytest.approx(sum(lines.values_list("length_m", flat=True)), abs=1)
    total = by_cluster["total"]
    assert total["lines"] == lines.count()
    assert total["inspected_in_cycle"] + total["overdue"] == total["lines"]
    # Overdue counted independently: never inspected, or last inspected before 2021-11-29.
    cutoff = datetime.date(2021, 11, 29)
    assert (
        total["overdue"]
        == lines.filter(last_inspected__lt=cutoff).count() + lines.filter(last_inspected__isnull=True).count()
    )
    assert total["with_open_problems"] == lines.filter(problems__status="open").distinct().count()
    assert [row["code"] for row in by_cluster["rows"]] == ["urban_core", "ne_three_gorges", "se_wuling"]
    if level in (None, "township"):  # every district has township lines
        assert len(by_district["rows"]) == 38


def test_summary_changes_with_the_date(api):
    """Everything inspected in 2023 (the provincial round) is in cycle until 2028, overdue after."""
    with time_machine.travel("2027-01-01" + NOON, tick=False):
        body = api.get("/api/v1/inspections/summary", {"group_by": "cluster", "level": "province"}).json()
    assert body["total"]["lines"] == 5 and body["total"]["inspected_in_cycle"] == 5 and body["total"]["overdue"] == 0
    assert body["date"] == "2027-01-01"
    with time_machine.travel("2029-01-01" + NOON, tick=False):
        body = api.get("/api/v1/inspections/summary", {"group_by": "district", "level": "province"}).json()
    assert body["total"]["overdue"] == 5
    assert sum(row["lines"] for row in body["rows"]) == 5


def test_generated_history_is_plausible():
    province = BoundaryLine.objects.filter(level="province")
    assert {line.last_inspected.year for line in province} == {2023}
    county_years = {line.last_inspected.year for line in BoundaryLine.objects.filter(level="county")}
    assert county_years <= set(range(2017, 2025)) and len(county_years) >= 5
    county = boundary_line_list(today=datetime.date(2026, 11, 29)).filter(level="county")
    assert 0 < county.filter(overdue=True).count() < 83
    assert BoundaryProblem.objects.filter(kind="dispute").exists()
    assert BoundaryLine.objects.filter(status="disputed").exists()
    assert BoundaryLine.objects.filter(status="problem").exists()
    assert not Inspection.objects.filter(is_synthetic=False).exists()
    assert SurveyTeam.objects.count() == 3
    assert sum(team.lines.count() for team in SurveyTeam.objects.all()) == BoundaryLine.objects.count()
    # Line status follows the open problems.
    for line in BoundaryLine.objects.exclude(status="clear"):
        kinds = set(line.problems.filter(status="open").values_list("kind", flat=True))
        assert ("dispute" in kinds) == (line.status == "disputed")
        assert kinds


def test_markers_sit_on_their_lines_and_are_numbered():
    assert not Marker.objects.filter(is_synthetic=False).exists()
    off = rows(
        "SELECT m.number FROM {marker} m JOIN {line} l ON l.id = m.line_id"
        " WHERE ST_Distance(m.geom::geography, l.geom::geography) > 1"
    )
    assert off == []
    # One triple marker per provincial and county tri-junction.
    assert (
        Marker.objects.filter(marker_type="triple").count()
        == TriJunction.objects.filter(level__in=["province", "county"]).count()
    )
    marker = Marker.objects.filter(line__code="500103-500105").order_by("sequence").first()
    assert marker.number == f"500103-500105-{marker.sequence:03d}{Marker.TYPE_LETTER[marker.marker_type]}"
    # About one every 5 km along the provincial and county lines.
    km = sum(BoundaryLine.objects.filter(level__in=["province", "county"]).values_list("length_m", flat=True)) / 1000
    along = Marker.objects.exclude(marker_type="triple").count()
    assert km / 5 * 0.9 < along < km / 5 * 1.2


def test_line_list_geojson_and_filters(api):
    body = api.get("/api/v1/boundary-lines", {"level": "province"}).json()
    assert body["type"] == "FeatureCollection" and body["count"] == 5
    props = body["features"][0]["properties"]
    assert {"code", "name", "level", "left", "right", "length_m", "last_inspected", "next_due", "status"} <= set(props)
    assert {"overdue", "is_synthetic", "history_is_synthetic"} <= set(props)
    assert body["features"][0]["geometry"]["type"] == "MultiLineString"
    se = api.get("/api/v1/boundary-lines", {"level": "county", "cluster": "se_wuling", "page_size": 200}).json()
    names = {f["properties"]["name"] for f in se["features"]}
    assert {"黔江区—彭水苗族土家族自治县", "黔江区—酉阳土家族苗族自治县"} <= names
    # Every county line with a side in the cluster, and only those.
    county = BoundaryLine.objects.filter(level="county")
    with_a_side = county.filter(left_division__cluster="se_wuling") | county.filter(right_division__cluster="se_wuling")
    assert se["count"] == len(se["features"]) == with_a_side.count()
    assert all(
        "se_wuling"
        in {
            BoundaryLine.objects.get(code=f["properties"]["code"]).left_division.cluster_id,
            BoundaryLine.objects.get(code=f["properties"]["code"]).right_division.cluster_id,
        }
        for f in se["features"]
    )
    disputed = api.get("/api/v1/boundary-lines", {"status": "disputed"}).json()
    assert disputed["count"] == BoundaryLine.objects.filter(status="disputed").count() > 0


def test_line_detail_and_markers(api):
    line = BoundaryLine.objects.filter(level="county", problems__isnull=False).order_by("code").first()
    body = api.get(f"/api/v1/boundary-lines/{line.code}").json()
    props = body["properties"]
    assert props["code"] == line.code and props["name"] == line.name
    assert len(props["inspections"]) == line.inspections.count() >= 1
    assert props["inspections"][0]["date"] == line.last_inspected.isoformat()
    assert len(props["problems"]) == line.problems.count()
    assert [m["number"] for m in props["markers"]] == list(
        line.markers.order_by("sequence").values_list("number", flat=True)
    )
    markers = api.get("/api/v1/markers", {"line": line.code}).json()
    assert markers["count"] == line.markers.count()
    assert markers["features"][0]["geometry"]["type"] == "Point"
    lost = api.get("/api/v1/markers", {"status": "lost", "page_size": 5000}).json()
    assert {f["properties"]["status"] for f in lost["features"]} == {"lost"}


@pytest.mark.parametrize(
    ("url", "params", "status", "code"),
    [
        ("/api/v1/boundary-lines", {"level": "country"}, 400, "invalid_parameter"),
        ("/api/v1/boundary-lines", {"status": "fine"}, 400, "invalid_parameter"),
        ("/api/v1/boundary-lines", {"cluster": "atlantis"}, 400, "invalid_parameter"),
        ("/api/v1/boundary-lines", {"overdue": "maybe"}, 400, "invalid_parameter"),
        ("/api/v1/boundary-lines", {"simplify": "-3"}, 400, "invalid_parameter"),
        ("/api/v1/boundary-lines/not-a-code", {}, 400, "invalid_parameter"),
        ("/api/v1/boundary-lines/500103-500999", {}, 404, "not_found"),
        ("/api/v1/markers", {"line": "'; drop table"}, 400, "invalid_parameter"),
        ("/api/v1/markers", {"status": "stolen"}, 400, "invalid_parameter"),
        ("/api/v1/inspections/summary", {"group_by": "province"}, 400, "invalid_parameter"),
        ("/api/v1/inspections/summary", {"level": "village"}, 400, "invalid_parameter"),
    ],
)
def test_bad_input_gets_400_json(api, url, params, status, code):
    assert_error(api.get(url, params), status, code)


def test_schema_documents_the_endpoints(api):
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    for path in ("/api/v1/boundary-lines", "/api/v1/boundary-lines/{code}", "/api/v1/markers"):
        assert path in schema["paths"]
    assert "/api/v1/inspections/summary" in schema["paths"]


@pytest.mark.parametrize(
    "model", ["boundaryline", "marker", "trijunction", "surveyteam", "inspection", "boundaryproblem"]
)
def test_admin_pages_open(client, model):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw-for-tests-only"))
    listing = client.get(f"/admin/boundaries/{model}/")
    assert listing.status_code == 200
    from django.apps import apps

    first = apps.get_model("boundaries", model).objects.order_by("pk").first()
    assert client.get(f"/admin/boundaries/{model}/{first.pk}/change/").status_code == 200
