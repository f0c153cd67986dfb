"""Establishment standards (镇、街道设立标准) as data: the 1984 national town standard with its source,
edited by administrators, and the check that reports a figure it is not given as missing."""

import datetime

import pytest
from django.contrib.auth.models import Group, User

from boundaries.history_models import EstablishmentStandard
from boundaries.standards import establishment_check
from gis_portal.core.roles import ADMINISTRATOR, REVIEWER

pytestmark = pytest.mark.django_db


def town_criteria() -> list[dict]:
    return list(
        EstablishmentStandard.objects.filter(unit="town").values(
            "group", "figure", "figure_label", "comparison", "threshold", "source"
        )
    )


def test_the_1984_town_standard_is_loaded_with_its_source():
    standards = EstablishmentStandard.objects.filter(unit="town")
    assert standards.count() == 5
    assert all("国发〔1984〕165号" in s.source and s.source_date == datetime.date(1984, 11, 22) for s in standards)
    assert not EstablishmentStandard.objects.filter(unit="street").exists()  # none is assumed


def test_check_met_not_met_and_missing_figures_never_estimated():
    criteria = town_criteria()
    # A township of 15,000 people with 2,500 non-agricultural people at its seat: alternative 2 is met.
    met = establishment_check(
        criteria=criteria, figures={"total_population": 15000, "seat_nonagricultural_population": 2500}
    )
    assert met["result"] == "met" and met["missing"] == []
    # With only the population the service holds, the seat's figure is asked for, not guessed.
    unknown = establishment_check(criteria=criteria, figures={"total_population": 15000})
    assert unknown["result"] == "figures_missing"
    assert unknown["missing"] == ["county_seat", "seat_nonagricultural_population"]
    # 30,000 people, 8% at the seat, not a county seat: no alternative is met.
    short = establishment_check(
        criteria=criteria,
        figures={
            "total_population": 30000,
            "seat_nonagricultural_share": 0.08,
            "county_seat": 0,
            "seat_nonagricultural_population": 2400,
        },
    )
    assert short["result"] == "not_met"
    by_group = {a["group"]: a for a in short["alternatives"]}
    assert by_group["3 总人口二万以上的乡"]["result"] == "not_met"
    assert by_group["2 总人口二万以下的乡"]["result"] == "not_met"  # 30,000 is not below 20,000
    # Exactly at the threshold: "at least 10%" is met, "more than 2,000" is not.
    assert (
        establishment_check(criteria=criteria, figures={"total_population": 20000, "seat_nonagricultural_share": 0.1})[
            "result"
        ]
        == "met"
    )


def test_administrators_edit_the_standards_and_reviewers_cannot(client):
    standard = EstablishmentStandard.objects.get(unit="town", figure="seat_nonagricultural_population")
    url = f"/admin/boundaries/establishmentstandard/{standard.id}/change/"
    reviewer = User.objects.create_user("std-reviewer", password="pw-for-tests-only", is_staff=True)
    reviewer.groups.add(Group.objects.get(name=REVIEWER))
    client.force_login(reviewer)
    assert client.get(url).status_code == 403
    admin = User.objects.create_user("std-admin", password="pw-for-tests-only", is_staff=True)
    admin.groups.add(Group.objects.get(name=ADMINISTRATOR))
    client.force_login(admin)
    form = {
        "unit": "town",
        "group": standard.group,
        "figure": standard.figure,
        "figure_label": standard.figure_label,
        "comparison": "gt",
        "threshold": "2500",
        "service_knows": "",
        "source": "渝府发〔2026〕1号（示例）",
        "source_date": "2026-01-01",
        "note": "",
    }
    assert client.post(url, form).status_code == 302
    standard.refresh_from_db()
    assert (standard.threshold, standard.source_date) == (2500, datetime.date(2026, 1, 1))
