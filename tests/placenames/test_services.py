"""The gazetteer's writes: the build from the divisions (idempotent, logged with its counts) and
renames (the old name kept as a former name; a refused rename writes nothing and is logged)."""

import datetime
import logging

import pytest

from boundaries.models import Division
from gis_portal.core.errors import InvalidParameter
from placenames.models import PlaceName, PlaceNameVariant
from placenames.services import gazetteer_build, placename_rename

pytestmark = pytest.mark.django_db


def test_every_name_has_the_district_its_code_starts_with():
    districts = dict(Division.objects.filter(level="district").values_list("code", "id"))
    named = PlaceName.objects.filter(division__isnull=False).values_list(
        "division__code", "division__level", "district"
    )
    for code, level, district_id in named:
        assert district_id == (None if level == "municipality" else districts[code[:6]]), code


def test_gazetteer_build_again_adds_nothing_and_logs_its_counts(caplog):
    before = (PlaceName.objects.count(), PlaceNameVariant.objects.count())
    with caplog.at_level(logging.INFO, logger="placenames.services"):
        report = gazetteer_build()
    assert (report.created, report.variants, report.former_names) == (0, 0, 0)
    assert (PlaceName.objects.count(), PlaceNameVariant.objects.count()) == before
    assert [r.getMessage() for r in caplog.records] == [str(report)]


def test_rename_keeps_the_former_name_and_is_logged(caplog):
    place = PlaceName.objects.get(name="观音桥街道")
    with caplog.at_level(logging.INFO, logger="placenames.services"):
        placename_rename(placename=place, new_name="观音桥商圈街道", on=datetime.date(2025, 5, 1), approval_ref="A-1")
    place.refresh_from_db()
    assert (place.name, place.pinyin_plain, place.valid_from) == (
        "观音桥商圈街道",
        "guanyinqiaoshangquanjiedao",
        datetime.date(2025, 5, 1),
    )
    former = place.variants.get(kind="former")
    assert (former.name, former.valid_to) == ("观音桥街道", datetime.date(2025, 4, 30))
    assert place.variants.get(kind="traditional").name == "觀音橋商圈街道"
    (record,) = caplog.records
    assert record.levelno == logging.INFO and "观音桥街道 → 观音桥商圈街道" in record.getMessage()


@pytest.mark.parametrize(
    ("new_name", "on", "reason"),
    [
        ("", datetime.date(2025, 5, 1), "new_name: 1 to 64 characters"),
        ("街" * 65, datetime.date(2025, 5, 1), "new_name: 1 to 64 characters"),
        ("观音桥街道", datetime.date(2025, 5, 1), "new_name: the place already has this name"),
        ("观音桥商圈街道", datetime.date(1900, 1, 1), "on: must be after the current name's start"),
    ],
    ids=["empty", "too long", "same name", "before the current name"],
)
def test_refused_rename_writes_nothing_and_is_logged(caplog, new_name, on, reason):
    place = PlaceName.objects.get(name="观音桥街道")
    place.valid_from = datetime.date(1990, 1, 1)
    variants = PlaceNameVariant.objects.count()
    with caplog.at_level(logging.INFO, logger="placenames.services"), pytest.raises(InvalidParameter) as refused:
        placename_rename(placename=place, new_name=new_name, on=on)
    assert refused.value.message.startswith(reason)
    assert PlaceNameVariant.objects.count() == variants
    assert PlaceName.objects.get(pk=place.pk).name == "观音桥街道"
    (record,) = caplog.records
    assert "refused" in record.getMessage() and reason in record.getMessage()
