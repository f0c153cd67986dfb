"""Place-name signs: the generated demo signs (synthetic, some wrong, damaged or missing), the list
and map layer of those needing work, and a survey team's check with a photo (validated with Pillow,
kept under MEDIA_ROOT); a photo that is not an image or is too large answers 4xx and writes nothing."""

import io

import pytest
from PIL import Image

from placenames.models import PlaceName
from placenames.office.models import Sign, SignCheck
from placenames.office.signs import sign_findings
from placenames.sign_rules import sign_pinyin_expected
from tests.helpers import assert_error
from tests.placenames.office.conftest import client_for


def jpeg(size=(64, 48), color=(200, 30, 30)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, color).save(data, "JPEG")
    data.seek(0)
    data.name = "sign.jpg"
    return data


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_demo_signs_are_synthetic_and_some_are_wrong_damaged_or_missing(db):
    signs = Sign.objects.all()
    assert signs.count() == 120 and not signs.filter(is_synthetic=False).exists()
    wrong = signs.filter(is_wrong=True)
    assert 10 <= wrong.count() <= 40
    rules = {f["rule"] for s in wrong for f in s.findings}
    assert {"sign.chinese.characters", "sign.pinyin.letters", "sign.pinyin.word_separation"} <= rules
    assert signs.filter(condition="damaged").exists() and signs.filter(condition="missing").exists()
    # The right ones are right by the rules, all-capital spellings included.
    right = signs.filter(is_wrong=False)
    assert right.filter(text_pinyin__regex=r"^[A-Z ]+$").exists()
    for sign in right[:20]:
        assert sign.text_chinese == sign.placename.name


def test_a_correct_sign_passes_and_wrong_texts_are_each_reported():
    place = PlaceName(name="解放碑街道", specific="解放碑", generic="街道")
    assert sign_pinyin_expected(specific="解放碑", generic="街道") == "Jiefangbei Jiedao"
    assert sign_findings(placename=place, text_chinese="解放碑街道", text_pinyin="Jiefangbei Jiedao") == []
    cases = {
        ("解放杯街道", "Jiefangbei Jiedao"): "sign.chinese.characters",
        ("解放碑街道", "Jiefangbai Jiedao"): "sign.pinyin.letters",
        ("解放碑街道", "Jie Fang Bei Jie Dao"): "sign.pinyin.word_separation",
        ("解放碑街道", "Jiěfàngbēi Jiēdào"): "sign.pinyin.tone_marks",
    }
    for (chinese, pinyin), rule in cases.items():
        assert rule in {f["rule"] for f in sign_findings(placename=place, text_chinese=chinese, text_pinyin=pinyin)}


def test_the_layer_lists_only_signs_needing_work(db):
    body = client_for(None).get("/api/v1/naming/signs").json()
    assert body["type"] == "FeatureCollection"
    problems = [f["properties"]["problems"] for f in body["features"]]
    assert problems and all(problems)
    assert len(body["features"]) == Sign.objects.exclude(condition="good", is_wrong=False).count()
    district = client_for(None).get("/api/v1/naming/signs", {"district": "500103", "problems": "false"}).json()
    assert {f["properties"]["district"] for f in district["features"]} == {"渝中区"}
    assert len(district["features"]) == 30
    assert_error(client_for(None).get("/api/v1/naming/signs", {"district": "5001"}), 400)


def test_a_survey_team_reports_a_check_with_a_photo(db, surveyor, media):
    sign = Sign.objects.filter(is_wrong=True, condition="good").order_by("id").first()
    place = sign.placename
    response = client_for(surveyor).post(
        f"/api/v1/naming/signs/{sign.pk}/checks",
        {
            "condition": "damaged",
            "text_chinese": place.name,
            "text_pinyin": sign_pinyin_expected(specific=place.specific, generic=place.generic),
            "photo": jpeg(),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    sign.refresh_from_db()
    assert (sign.condition, sign.is_wrong, sign.findings) == ("damaged", False, [])
    check = SignCheck.objects.get(pk=response.json()["check_id"])
    assert (check.photo_format, check.photo_width, check.photo_height) == ("JPEG", 64, 48)
    assert (media / check.photo.name).is_file() and check.photo.name.startswith("sign_checks/")
    assert check.photo.name.endswith(".jpg") and "sign" not in check.photo.name.rsplit("/", 1)[1]
    assert check.team.name == "地名标志检查组"


@pytest.mark.parametrize(
    ("photo", "status", "code"),
    [
        (io.BytesIO(b"%PDF-1.4 not an image"), 415, "unsupported_format"),
        (None, 400, "invalid_parameter"),
        ("large", 413, "too_large"),
    ],
    ids=["not an image", "no photo", "too large"],
)
def test_a_bad_photo_answers_4xx_and_writes_nothing(db, surveyor, media, settings, photo, status, code):
    settings.PLACENAME_PHOTO_MAX_BYTES = 2000
    if photo == "large":
        photo = jpeg(size=(400, 400))
        assert len(photo.getvalue()) > 2000
    elif photo is not None:
        photo.name = "sign.jpg"
    sign = Sign.objects.filter(condition="good").order_by("id").first()
    body = {"condition": "missing"} | ({"photo": photo} if photo is not None else {})
    response = client_for(surveyor).post(f"/api/v1/naming/signs/{sign.pk}/checks", body, format="multipart")
    assert_error(response, status, code)
    sign.refresh_from_db()
    assert sign.condition == "good" and not SignCheck.objects.exists()
    assert not list(media.rglob("*.*"))


def test_only_survey_teams_report_checks(db, officer, media):
    sign = Sign.objects.order_by("id").first()
    body = {"condition": "missing", "photo": jpeg()}
    assert client_for(None).post(f"/api/v1/naming/signs/{sign.pk}/checks", body, format="multipart").status_code in (
        401,
        403,
    )
    assert_error(
        client_for(officer).post(f"/api/v1/naming/signs/{sign.pk}/checks", body, format="multipart"), 403, "forbidden"
    )
    assert not SignCheck.objects.exists()


def test_the_heritage_layer(db):
    body = client_for(None).get("/api/v1/naming/heritage").json()
    by_name = {f["properties"]["name"]: f for f in body["features"]}
    gongtan = by_name["龚滩镇"]
    assert gongtan["properties"]["category"] == "old_town" and gongtan["properties"]["level"] == "national"
    assert gongtan["properties"]["district"] == "酉阳土家族苗族自治县"
    assert gongtan["properties"]["placename_id"] == PlaceName.objects.get(name="龚滩镇").pk
    assert gongtan["properties"]["is_synthetic"] is False  # located at the standard name's point
    lon, lat = gongtan["geometry"]["coordinates"]
    assert 108.0 < lon < 109.2 and 28.2 < lat < 29.4
