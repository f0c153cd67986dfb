"""The automatic checks of a proposed name against the gazetteer: same name and same toneless pinyin
within the scope the rules set (held as data), heritage names, recently abolished units; each
finding names its rule and its source."""

import datetime

import pytest
from django.utils import timezone

from boundaries.models import Division
from placenames.models import PlaceName
from placenames.office.models import CheckScope, HeritageName, NamingApplication
from placenames.office.selectors import proposal_findings
from placenames.office.services import application_submit
from tests.placenames.office.conftest import JIANGBEI, JIEFANGBEI, QIANJIANG, YOUYANG, point_in


def submit(name: str, location, object_type: str = "division", **fields) -> NamingApplication:
    return application_submit(kind="name", object_type=object_type, name=name, location=location, **fields)


def rules(application: NamingApplication) -> dict[str, dict]:
    return {f["rule"]: f for f in application.findings}


def test_jiefangbei_street_in_yuzhong_conflicts_with_the_standard_name(db):
    application = submit("解放碑街道", JIEFANGBEI)
    assert application.status == "checked"
    assert (application.district.name, application.specific, application.generic) == ("渝中区", "解放碑", "街道")
    found = rules(application)
    assert "scope.same_name" in found
    assert [c["name"] for c in found["scope.same_name"]["conflicts"]] == ["解放碑街道"]
    assert found["scope.same_name"]["blocking"] is True
    assert "第八条(五)" in found["scope.same_name"]["source"]
    assert "渝中区" in found["scope.same_name"]["message"]


def test_a_homophone_with_other_characters_is_found(db):
    found = rules(submit("解方碑街道", JIEFANGBEI))
    assert "scope.same_name" not in found
    assert [c["name"] for c in found["scope.same_pinyin"]["conflicts"]] == ["解放碑街道"]
    assert "homophone" in found["scope.same_pinyin"]["message"]


def test_the_same_name_in_another_county_is_allowed(db):
    application = submit("解放碑街道", point_in(JIANGBEI))
    assert application.district.code == JIANGBEI
    assert not [f for f in application.findings if f["rule"].startswith("scope.")]
    assert not [f for f in application.findings if f["blocking"]]


def test_a_community_name_conflicts_within_its_township_only(db):
    place = PlaceName.objects.filter(district__code=JIANGBEI, generic="社区").order_by("id").first()
    here = submit(place.name, place.point, object_type="community")
    assert here.township_id == place.parent_id
    assert [c["name"] for c in rules(here)["scope.same_name"]["conflicts"]] == [place.name]
    elsewhere = (
        PlaceName.objects.filter(district__code=JIANGBEI, feature_class="village")
        .exclude(parent=place.parent)
        .order_by("id")
        .first()
    )
    assert not PlaceName.objects.filter(parent=elsewhere.parent, name=place.name).exists()
    there = submit(place.name, elsewhere.point, object_type="community")
    assert there.township_id == elsewhere.parent_id
    assert "scope.same_name" not in rules(there)


def test_scopes_are_data(db):
    scope = CheckScope.objects.get(object_type="division")
    assert (scope.area, scope.feature_classes) == ("district", ["township"])
    scope.area = CheckScope.Area.MUNICIPALITY
    scope.save()
    # Now 解放碑街道 in 江北区 conflicts, as the scope is the whole municipality.
    assert "scope.same_name" in rules(submit("解放碑街道", point_in(JIANGBEI)))


def test_a_protected_heritage_name_is_flagged(db):
    heritage = HeritageName.objects.get(name="龚滩镇")
    assert heritage.district.code == YOUYANG and heritage.level == "national"
    found = rules(submit("龚滩路", point_in(YOUYANG), object_type="road"))
    assert "龚滩镇" in found["name.heritage"]["message"]
    assert found["name.heritage"]["source"]


def test_the_generic_that_does_not_fit_and_a_rare_character_are_reported_with_their_rules(db):
    found = rules(submit("碚石大道", JIEFANGBEI, object_type="bridge"))
    assert found["name.generic.object_type"]["blocking"] is False
    assert (
        "level 2" in found["name.characters.rare"]["message"] or "level 3" in found["name.characters.rare"]["message"]
    )


def test_every_finding_names_its_rule_and_source(db):
    findings = [
        finding
        for name, object_type in [("解方碑街道", "division"), ("解放碑镇", "division"), ("碚石大道", "bridge")]
        for finding in submit(name, JIEFANGBEI, object_type=object_type).findings
    ]
    assert {f["rule"] for f in findings} >= {
        "scope.same_pinyin",
        "scope.same_specific",
        "name.generic.object_type",
        "name.characters.rare",
    }
    for finding in findings:
        assert finding["rule"] and finding["source"] and finding["message"]
        assert isinstance(finding["blocking"], bool)


@pytest.mark.xfail(reason="needs the division history of issue 14", strict=False)
def test_the_name_of_a_recently_abolished_unit_is_flagged(db):
    # 五里乡 of 黔江区 (500114254) is in the 2020 list and gone from the 2021 one.
    district = Division.objects.get(code=QIANJIANG)
    findings = proposal_findings(
        kind="name",
        object_type="division",
        name="五里乡",
        specific="五里",
        generic="乡",
        district=district,
        township=None,
        today=datetime.date(2024, 1, 1),
    )
    found = {f["rule"]: f for f in findings}
    assert "五里乡" in found["name.abolished_unit"]["message"]
    assert found["name.abolished_unit"]["blocking"] is True


def test_a_unit_abolished_long_ago_is_not_flagged(db):
    district = Division.objects.get(code=QIANJIANG)
    findings = proposal_findings(
        kind="name",
        object_type="division",
        name="五里乡",
        specific="五里",
        generic="乡",
        district=district,
        township=None,
        today=timezone.localdate() + datetime.timedelta(days=365 * 12),
    )
    assert "name.abolished_unit" not in {f["rule"] for f in findings}


def test_a_county_level_name_is_compared_across_the_municipality(db):
    found = rules(submit("渝中区", point_in(JIANGBEI), object_type="county"))
    assert [c["name"] for c in found["scope.same_name"]["conflicts"]] == ["渝中区"]
    assert "the municipality" in found["scope.same_name"]["message"]
    homophone = rules(submit("渝忠区", point_in(QIANJIANG), object_type="county"))
    assert [c["name"] for c in homophone["scope.same_pinyin"]["conflicts"]] == ["渝中区"]


def test_a_road_name_is_compared_within_the_district(db):
    road = application_submit(kind="name", object_type="road", name="望江新路", location=JIEFANGBEI)
    assert not [f for f in road.findings if f["rule"].startswith("scope.")]
    PlaceName.objects.create(
        name="望江新路",
        specific="望江新",
        generic="路",
        pinyin="Wangjiangxin Lu",
        pinyin_plain="wangjiangxinlu",
        initials="wjxl",
        feature_class="road",
        district=road.district,
        parent=road.township,
        point=JIEFANGBEI,
    )
    elsewhere_in_yuzhong = PlaceName.objects.filter(district=road.district, feature_class="village").exclude(
        parent=road.township
    )[0]
    again = application_submit(kind="name", object_type="road", name="望江新路", location=elsewhere_in_yuzhong.point)
    assert again.township != road.township and "scope.same_name" in rules(again)
    other_county = application_submit(kind="name", object_type="road", name="望江新路", location=point_in(JIANGBEI))
    assert "scope.same_name" not in rules(other_county)
