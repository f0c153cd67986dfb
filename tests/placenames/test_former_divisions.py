"""Former names of divisions from the division history: searching a town's old name finds the
street it became, marked former, with its dates; names begun after the first list start then."""

import datetime

import pytest

from placenames.former_divisions import HISTORY_NOTE, former_division_names_apply
from placenames.models import PlaceName, PlaceNameVariant

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/placenames/search"


def first(client, **params) -> dict | None:
    features = client.get(SEARCH, params).json()["features"]
    return features[0]["properties"] if features else None


def by_code(client, code: str, **params) -> dict | None:
    """The result with this division code, if the search found it."""
    features = client.get(SEARCH, params).json()["features"]
    return next((f["properties"] for f in features if f["properties"]["code"] == code), None)


def test_searching_a_former_town_finds_the_street_marked_former(client):
    # 梁平区 has a 新盛镇 of its own today (500155107): both are found, each marked for what matched.
    today = by_code(client, "500155107", q="新盛镇")
    assert today["name"] == "新盛镇" and today["matched"]["former"] is False
    found = by_code(client, "500110006", q="新盛镇")
    assert found["name"] == "新盛街道"
    assert found["matched"]["former"] is True
    assert found["matched"]["valid_to"] == "2020-06-29"  # the later list's date is the first day of the new name
    variant = PlaceNameVariant.objects.get(placename__division__code="500110006", kind="former", name="新盛镇")
    assert variant.note.startswith(HISTORY_NOTE) and "2019-10-31至2020-06-30之间" in variant.note
    assert variant.pinyin == "Xinsheng Zhen"
    # By pinyin too.
    assert by_code(client, "500110006", q="xinshengzhen")["matched"]["former"] is True


def test_dates_of_former_and_current_names(client):
    # As of 2020-01-01 the street did not exist yet; its old name did.
    assert PlaceName.objects.get(division__code="500110006").valid_from == datetime.date(2020, 6, 30)
    assert "新盛街道" not in [
        f["properties"]["name"]
        for f in client.get(SEARCH, {"q": "新盛街道", "date": "2020-01-01"}).json()["features"]
        if f["properties"]["matched"]["tier"] != "fuzzy"
    ]
    assert by_code(client, "500110006", q="新盛镇", date="2020-01-01")["matched"]["former"] is True
    later = by_code(client, "500110006", q="新盛镇", date="2021-01-01")
    assert later is None or later["matched"]["tier"] == "fuzzy"
    # A township merged into another leaves its name on it; a rename under the same code too.
    assert first(client, q="土坎镇")["code"] == "500156004"  # 羊角街道
    assert first(client, q="清水土家族自治乡")["code"] == "500235242"
    # A unit that was on the first list keeps no start.
    assert PlaceName.objects.get(division__code="500110002").valid_from is None


def test_former_names_are_idempotent():
    before = PlaceNameVariant.objects.filter(note__startswith=HISTORY_NOTE).count()
    assert before > 100
    counts = former_division_names_apply()
    assert counts["former_names"] == before == PlaceNameVariant.objects.filter(note__startswith=HISTORY_NOTE).count()
    assert counts["names_begun"] == 0  # already set


def test_detail_gives_the_name_in_use_on_a_date(client):
    place = PlaceName.objects.get(division__code="500110006")
    url = f"/api/v1/placenames/{place.id}"
    then = client.get(url, {"date": "2020-01-01"}).json()["properties"]
    assert then["name"] == "新盛街道"
    assert then["name_on"]["name"] == "新盛镇" and then["name_on"]["kind"] == "former"
    now = client.get(url, {"date": "2024-01-01"}).json()["properties"]["name_on"]
    assert (now["name"], now["kind"]) == ("新盛街道", "standard")
    assert "name_on" not in client.get(url).json()["properties"]
    assert client.get(url, {"date": "2020-02-30"}).status_code == 400
