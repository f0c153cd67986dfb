"""The division history (区划调整): the yearly lists imported as dated versions (loaded by the
session's load_chongqing), every dated answer checked against the lists themselves, the change
events, staff review, and bad input."""

import csv
import datetime
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from boundaries.division_changes import CHONGQING_SNAPSHOTS, division_snapshot_read
from boundaries.history import DivisionListFile, chongqing_list_files, division_change_review, division_history_import
from boundaries.history_models import DivisionArea, DivisionChange, DivisionList, DivisionVersion
from boundaries.history_selectors import division_versions_on, divisions_abolished_between
from boundaries.models import Division
from boundaries.selectors import division_locate
from gis_portal.core.errors import InvalidData, InvalidParameter
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "chongqing"
XINSHENG_TOWN, XINSHENG_STREET = "500110122", "500110006"  # 新盛镇 -> 新盛街道 (綦江区), 2019-10-31..2020-06-30


@pytest.mark.parametrize(("as_of", "path"), CHONGQING_SNAPSHOTS, ids=[str(d) for d, _ in CHONGQING_SNAPSHOTS])
def test_as_of_each_list_date_the_divisions_are_that_list(as_of, path):
    listed = {
        (u.code, u.name, u.level, u.parent_code)
        for u in division_snapshot_read(path=FIXTURES / path, as_of=as_of).units
    }
    answered = set(division_versions_on(on=as_of).values_list("code", "name", "level", "parent_code"))
    assert answered == listed
    # The day before the next list, still this list (the change is taken on the later date).
    later = [d for d, _ in CHONGQING_SNAPSHOTS if d > as_of]
    if later:
        day_before = later[0] - datetime.timedelta(days=1)
        assert set(division_versions_on(on=day_before).values_list("code", "name", "level", "parent_code")) == listed


@pytest.mark.parametrize(("day", "townships"), [("2019-10-31", 1028), ("2020-06-30", 1029), ("2023-06-30", 1031)])
def test_dated_division_list_counts_townships(api, day, townships):
    response = api.get("/api/v1/divisions", {"level": "township", "date": day, "page_size": 2000, "simplify": 500})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == townships
    codes = {f["properties"]["code"] for f in body["features"]}
    assert (XINSHENG_TOWN in codes) == (day < "2020-06-30")
    assert (XINSHENG_STREET in codes) == (day >= "2020-06-30")


def test_xinsheng_town_as_of_2020_01_01(api):
    body = api.get(f"/api/v1/divisions/{XINSHENG_TOWN}", {"date": "2020-01-01"}).json()
    props = body["properties"]
    assert (props["code"], props["name"], props["parent_code"], props["level"]) == (
        XINSHENG_TOWN,
        "新盛镇",
        "500110",
        "township",
    )
    assert props["valid_to"] == {"date": "2020-06-30", "exact": False, "after": "2019-10-31"}
    # It keeps the polygon it lives on as, the street's.
    assert props["geometry_code"] == XINSHENG_STREET and props["has_own_geometry"] is True
    assert body["geometry"]["type"] in ("Polygon", "MultiPolygon")
    listed = api.get("/api/v1/divisions", {"code": XINSHENG_TOWN, "date": "2020-01-01"}).json()
    assert [f["properties"]["parent_code"] for f in listed["features"]] == ["500110"]


def test_xinsheng_town_asked_today_is_gone_with_its_successor(api):
    body = api.get(f"/api/v1/divisions/{XINSHENG_TOWN}").json()["properties"]
    assert body["status"] == "gone"
    assert body["valid_to"]["date"] == "2020-06-30" and body["valid_to"]["exact"] is False
    assert body["successors"] == [{"code": XINSHENG_STREET, "name": "新盛街道", "level": "township", "current": True}]
    assert [(c["type"], c["before_code"], c["after_code"]) for c in body["changes"]] == [
        ("town_to_street", XINSHENG_TOWN, XINSHENG_STREET)
    ]
    # Undated look-ups still answer today's divisions only.
    assert api.get("/api/v1/divisions", {"code": XINSHENG_TOWN}).json()["count"] == 0
    today = api.get(f"/api/v1/divisions/{XINSHENG_STREET}").json()["properties"]
    assert today["status"] == "current" and today["valid_from"]["date"] == "2020-06-30"
    assert api.get("/api/v1/divisions", {"level": "township", "page_size": 1}).json()["count"] == 1031


def test_abolished_unit_keeps_no_geometry_of_its_own(api):
    props = api.get("/api/v1/divisions/500156110", {"date": "2019-12-01"}).json()  # 土坎镇, merged into 羊角街道
    assert props["geometry"] is None
    assert props["properties"]["has_own_geometry"] is False
    gone = api.get("/api/v1/divisions/500156110").json()["properties"]
    assert [s["code"] for s in gone["successors"]] == ["500156004"]


def test_dated_locate_names_the_units_of_that_day():
    street = Division.objects.get(code=XINSHENG_STREET)
    today = division_locate(lon=street.point.x, lat=street.point.y)
    before = division_locate(lon=street.point.x, lat=street.point.y, on=datetime.date(2020, 1, 1))
    after = division_locate(lon=street.point.x, lat=street.point.y, on=datetime.date(2020, 6, 30))
    assert today["township"]["code"] == after["township"]["code"] == XINSHENG_STREET
    assert before["township"] == {"code": XINSHENG_TOWN, "name": "新盛镇", "is_synthetic": True}
    assert before["district"] == today["district"] and before["cluster"] == today["cluster"]
    # The village is one of the town's villages then, under its code then.
    assert before["village"]["code"].startswith(XINSHENG_TOWN)
    assert today["village"]["code"].startswith(XINSHENG_STREET)
    assert before["village"]["distance_m"] == today["village"]["distance_m"]


def test_dated_locate_before_a_split_answers_the_unit_it_split_from():
    # 通惠街道 500110007 split from 文龙街道 500110002 between 2019-10-31 and 2020-06-30.
    split = Division.objects.get(code="500110007")
    on_split = division_locate(lon=split.point.x, lat=split.point.y, on=datetime.date(2020, 6, 30))
    before = division_locate(lon=split.point.x, lat=split.point.y, on=datetime.date(2019, 10, 31))
    assert on_split["township"]["code"] == "500110007"
    assert before["township"]["code"] == "500110002"
    assert before["village"]["code"].startswith("500110002")


def test_dated_locate_in_a_new_unit_others_merged_into_answers_the_first_of_them():
    # 镇安镇 500154101 merged into the new 正安街道 500154008 between the 2020 and 2021 lists.
    street = Division.objects.get(code="500154008")
    before = division_locate(lon=street.point.x, lat=street.point.y, on=datetime.date(2021, 1, 1))
    assert before["township"]["code"] == "500154101"
    assert before["village"] is None or before["village"]["code"].startswith("500154101")
    after = division_locate(lon=street.point.x, lat=street.point.y, on=datetime.date(2021, 10, 31))
    assert after["township"]["code"] == "500154008"


def test_dated_locate_over_http(api):
    street = Division.objects.get(code=XINSHENG_STREET)
    body = api.get("/api/v1/locate", {"lon": street.point.x, "lat": street.point.y, "date": "2020-01-01"}).json()
    assert body["township"]["code"] == XINSHENG_TOWN


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/divisions", {}),
        (f"/api/v1/divisions/{XINSHENG_TOWN}", {}),
        ("/api/v1/locate", {"lon": "106.58", "lat": "29.56"}),
    ],
)
@pytest.mark.parametrize("bad", ["2019-10-30", "1990-01-01", "2020-13-01", "yesterday", "2020-1-1", "20200101"])
def test_bad_or_too_early_date_is_400_with_the_valid_range(api, path, params, bad):
    response = api.get(path, {**params, "date": bad})
    assert_error(response, 400)
    assert "2019-10-31" in response.json()["error"]["message"]


def test_a_code_never_listed_is_404(api):
    assert_error(api.get("/api/v1/divisions/500110999"), 404, "not_found")
    assert_error(api.get("/api/v1/divisions/50011012x"), 400)
    assert_error(api.get(f"/api/v1/divisions/{XINSHENG_STREET}", {"date": "2020-01-01"}), 404, "not_found")


def test_divisions_abolished_between():
    ended = divisions_abolished_between(start=datetime.date(2020, 1, 1), end=datetime.date(2020, 12, 31))
    by_code = {row["code"]: row for row in ended}
    assert by_code[XINSHENG_TOWN] == {
        "code": XINSHENG_TOWN,
        "name": "新盛镇",
        "level": "township",
        "parent_code": "500110",
        "district_code": "500110",
        "valid_to": datetime.date(2020, 6, 30),
        "successor_codes": [XINSHENG_STREET],
    }
    assert by_code["500156110"]["successor_codes"] == ["500156004"]  # 土坎镇 merged into 羊角街道
    assert by_code["500235242"]["name"] == "清水土家族自治乡"  # renamed under the same code
    assert by_code["500235242"]["successor_codes"] == ["500235242"]
    # A village re-coded under the same name, or a committee whose name alone changed: the name goes on.
    recoded = DivisionChange.objects.filter(type="recoded", changed_by=datetime.date(2020, 6, 30)).first()
    assert recoded.before.code not in by_code
    assert all(row["valid_to"] == datetime.date(2020, 6, 30) for row in ended)
    assert not divisions_abolished_between(start=datetime.date(2023, 7, 1), end=datetime.date(2026, 1, 1))
    townships = {row["code"] for row in ended if row["level"] == "township"}
    # Of the 2020 list: 6 镇→街道, 土坎镇 merged, 凤来乡→镇, 清水土家族自治乡 renamed.
    assert townships == {
        XINSHENG_TOWN,
        "500155101",
        "500155109",
        "500155120",
        "500156103",
        "500156106",
        "500156110",
        "500156200",
        "500235242",
    }
    assert len(divisions_abolished_between(start=datetime.date(2019, 1, 1), end=datetime.date(2023, 12, 31))) > 100


def test_change_list_filters_and_csv(api):
    body = api.get("/api/v1/division-changes", {"district": "500110", "level": "township"}).json()
    assert [(r["type"], r["before_code"], r["after_code"]) for r in body["results"]] == [
        ("split_from", "500110002", "500110007"),
        ("town_to_street", XINSHENG_TOWN, XINSHENG_STREET),
    ]
    assert body["results"][1]["changed_after"] == "2019-10-31" and body["results"][1]["inferred"] is True
    streets = api.get("/api/v1/division-changes", {"type": "town_to_street", "since": "2021-01-01"}).json()
    assert streets["count"] == 7 and all(r["changed_by"] == "2021-10-31" for r in streets["results"])
    early = api.get("/api/v1/division-changes", {"type": "town_to_street", "until": "2020-06-30"}).json()
    assert early["count"] == 6
    response = api.get("/api/v1/division-changes", {"district": "500110", "level": "township", "export": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row["after_name"] for row in rows] == ["通惠街道", "新盛街道"]
    assert_error(api.get("/api/v1/division-changes", {"type": "exploded"}), 400)
    assert_error(api.get("/api/v1/division-changes", {"since": "2020-02-30"}), 400)
    assert_error(api.get("/api/v1/division-changes", {"district": "5001"}), 400)


def test_staff_confirm_a_day_and_reimport_keeps_it():
    change = DivisionChange.objects.get(before__code=XINSHENG_TOWN, type="town_to_street")
    user = User.objects.create_user("planner-history")
    with pytest.raises(InvalidParameter, match="after 2019-10-31"):
        division_change_review(change=change, user=user, confirm=True, effective_date=datetime.date(2020, 7, 1))
    division_change_review(change=change, user=user, confirm=True, effective_date=datetime.date(2020, 3, 1))
    street = Division.objects.get(code=XINSHENG_STREET)
    on = datetime.date(2020, 3, 15)
    located = division_locate(lon=street.point.x, lat=street.point.y, on=on)
    assert located["township"]["code"] == XINSHENG_STREET
    assert located["village"]["code"].startswith(XINSHENG_STREET)  # its villages moved with it
    town = DivisionVersion.objects.get(code=XINSHENG_TOWN)
    assert (town.valid_to, town.valid_to_after) == (datetime.date(2020, 3, 1), None)

    before = (DivisionVersion.objects.count(), DivisionChange.objects.count(), DivisionArea.objects.count())
    report = division_history_import(files=chongqing_list_files())
    assert report.reviews_kept == 1
    assert (DivisionVersion.objects.count(), DivisionChange.objects.count(), DivisionArea.objects.count()) == before
    kept = DivisionChange.objects.get(before__code=XINSHENG_TOWN, type="town_to_street")
    assert (kept.review, kept.effective_date, kept.reviewed_by, kept.inferred) == (
        "confirmed",
        datetime.date(2020, 3, 1),
        user,
        False,
    )
    assert DivisionVersion.objects.get(code=XINSHENG_TOWN).valid_to == datetime.date(2020, 3, 1)


def test_import_refuses_a_latest_list_that_is_not_the_current_state(tmp_path):
    files = chongqing_list_files()
    edited = tmp_path / "divisions.csv"
    text = files[-1].path.read_text(encoding="utf-8").replace("新盛街道", "新胜街道")
    edited.write_text(text, encoding="utf-8")
    before = (DivisionVersion.objects.count(), DivisionList.objects.count())
    with pytest.raises(InvalidData, match=r"differs from the divisions in the database.*500110006"):
        division_history_import(files=[*files[:-1], DivisionListFile(as_of=files[-1].as_of, path=edited, source="x")])
    with pytest.raises(InvalidData, match="out of order"):
        division_history_import(files=list(reversed(files)))
    with pytest.raises(InvalidData, match="cannot read"):
        division_history_import(
            files=[*files[:-1], DivisionListFile(as_of=files[-1].as_of, path=tmp_path / "no.csv", source="x")]
        )
    assert (DivisionVersion.objects.count(), DivisionList.objects.count()) == before


def test_staff_correction_relinks_the_geometry_and_survives_a_reimport():
    change = DivisionChange.objects.get(before__code=XINSHENG_TOWN, type="town_to_street")
    user = User.objects.create_user("planner-correction")
    # Say the town was merged into 古南街道 instead: it no longer lives on as the street's polygon.
    change.type = DivisionChange.Type.MERGED_INTO
    change.after = DivisionVersion.objects.get(code="500110001")
    division_change_review(change=change, user=user, confirm=False, note="per the 2020 approval")
    town = DivisionVersion.objects.get(code=XINSHENG_TOWN)
    assert town.geometry_from is None
    street = Division.objects.get(code=XINSHENG_STREET)
    assert division_locate(lon=street.point.x, lat=street.point.y, on=datetime.date(2020, 1, 1))["township"] is None
    report = division_history_import(files=chongqing_list_files())
    assert report.reviews_kept == 1
    kept = DivisionChange.objects.get(derived_key=f"{XINSHENG_TOWN}|{XINSHENG_STREET}|2020-06-30")
    assert (kept.type, kept.before.code, kept.after.code, kept.review, kept.note) == (
        "merged_into",
        XINSHENG_TOWN,
        "500110001",
        "corrected",
        "per the 2020 approval",
    )
    assert DivisionVersion.objects.get(code=XINSHENG_TOWN).geometry_from is None
