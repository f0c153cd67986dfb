"""In headless Chromium: a member of the public suggests a name on the page, a naming officer puts it
under public notice, the public sees it on the notice page, the officer approves and publishes it,
and the public look-up finds the new standard name. The browser's server sees only committed rows,
so the officer is created, and everything the run wrote is removed, through a connection of its own."""

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from gis_portal.core.roles import NAMING_OFFICER
from placenames.models import PlaceName
from placenames.office.models import NamingApplication
from tests.helpers import committed, wait_until
from tests.placenames.office.conftest import JIEFANGBEI

pytestmark = pytest.mark.browser

NAME = "望江新路"
OFFICER = "browser-naming-officer"
PASSWORD = "browser-office-Pa55word"


def _officer_create():
    user = User.objects.create_user(OFFICER, password=PASSWORD)
    user.groups.add(Group.objects.get(name=NAMING_OFFICER))


def _cleanup():
    applications = NamingApplication.objects.filter(name=NAME)
    place_ids = [pk for pk in applications.values_list("placename_id", flat=True) if pk]
    applications.delete()
    PlaceName.objects.filter(pk__in=place_ids).delete()
    PlaceName.history.filter(id__in=place_ids).delete()
    User.objects.filter(username=OFFICER).delete()


@pytest.fixture
def officer_account(portal_server):
    committed(_cleanup)
    committed(_officer_create)
    yield OFFICER
    committed(_cleanup)


def test_suggest_notice_approve_publish_and_look_up(page, chromium, portal_server, officer_account):
    # The public suggests a name; a click on the map sets the location.
    page.goto(f"{portal_server}/placenames/naming/suggest/")
    wait_until(page, "window.officeMap !== undefined")
    page.click("#office-map", position={"x": 300, "y": 300})
    assert page.input_value("#id_lon") and page.input_value("#id_lat")
    page.fill("#id_lon", str(JIEFANGBEI.x))
    page.fill("#id_lat", str(JIEFANGBEI.y))
    page.select_option("#id_object_type", "road")
    page.fill("#id_name", NAME)
    page.fill("#id_reason", "新建滨江道路")
    page.click("#suggest-form button[type=submit]")
    application_id = page.text_content("#application-id").strip()
    assert application_id.isdigit()

    # A naming officer puts it under public notice from today to today.
    officer_context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    officer = officer_context.new_page()
    try:
        officer.goto(f"{portal_server}/accounts/login/?next=/placenames/naming/desk/{application_id}/")
        officer.fill("input[name=username]", OFFICER)
        officer.fill("input[name=password]", PASSWORD)
        officer.click("form[action='/accounts/login/'] button[type=submit]")
        officer.wait_for_selector("#notice-form")
        today = timezone.localdate().isoformat()
        officer.fill("#notice-end", today)
        officer.click("#notice-form button[type=submit]")
        assert officer.text_content("#application-status").strip() == "notice"

        # The public sees it on the notice page, with its dates.
        page.goto(f"{portal_server}/placenames/naming/notices/")
        page.click(f"#notice-list a:text('{NAME}')")
        assert page.text_content("#notice-name").startswith(NAME)
        assert page.text_content("#notice-dates").strip() == f"{today} – {today}"

        # The officer approves, with reasons, and publishes.
        officer.fill("#decision-reason", "公示期满无异议")
        officer.click("#approve")
        assert officer.text_content("#application-status").strip() == "approved"
        officer.click("#publish")
        assert officer.text_content("#application-status").strip() == "published"
        assert NAME in officer.text_content("#published-link")
        assert "publish" in officer.text_content("#audit")
    finally:
        officer_context.close()

    # The public look-up finds the new standard name.
    page.goto(f"{portal_server}/placenames/?q={NAME}")
    page.wait_for_selector("#placename-results li .result-name")
    assert page.text_content("#placename-results li .result-name").strip() == NAME
    assert page.errors == []


SURVEYOR_NAME = "browser-sign-surveyor"
TEAM = "浏览器测试地名标志组"


def _surveyor_create() -> tuple[int, str, str]:
    from boundaries.models import SurveyTeam
    from gis_portal.core.roles import SURVEYOR
    from placenames.office.models import Sign

    user = User.objects.create_user(SURVEYOR_NAME, password=PASSWORD)
    user.groups.add(Group.objects.get(name=SURVEYOR))
    team = SurveyTeam.objects.create(name=TEAM)
    team.members.add(user)
    sign = Sign.objects.filter(condition="good", is_wrong=True).order_by("id").first()
    return sign.pk, sign.condition, sign.text_pinyin


def _surveyor_cleanup(sign_pk: int, condition: str, pinyin: str) -> None:
    from boundaries.models import SurveyTeam
    from placenames.office.models import Sign, SignCheck
    from placenames.office.signs import sign_text_apply

    SignCheck.objects.filter(team__name=TEAM).delete()
    SurveyTeam.objects.filter(name=TEAM).delete()
    User.objects.filter(username=SURVEYOR_NAME).delete()
    sign = Sign.objects.get(pk=sign_pk)
    sign.condition, sign.text_pinyin = condition, pinyin
    sign_text_apply(sign).save()


def test_a_survey_team_reports_a_sign_check_from_a_phone(chromium, portal_server, settings, tmp_path):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path  # the server thread reads the same settings
    sign_pk, condition, pinyin = committed(_surveyor_create)
    context = chromium.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    try:
        phone.goto(f"{portal_server}/accounts/login/?next=/placenames/signs/{sign_pk}/check/")
        phone.fill("input[name=username]", SURVEYOR_NAME)
        phone.fill("input[name=password]", PASSWORD)
        phone.click("form[action='/accounts/login/'] button[type=submit]")
        phone.wait_for_selector("input[type=file][name=photo]")
        # The page fits the phone's width: nothing to scroll sideways, nothing zoomed out.
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        # A file that is not an image is refused with a message, and nothing is recorded.
        phone.select_option("select[name=condition]", "damaged")
        phone.set_input_files("input[name=photo]", {"name": "sign.jpg", "mimeType": "image/jpeg", "buffer": b"no"})
        phone.click("#sign-check-form button[type=submit]")
        assert "photo" in phone.text_content("#check-error")
        photo = io.BytesIO()
        Image.new("RGB", (120, 90), (30, 60, 160)).save(photo, "JPEG")
        phone.select_option("select[name=condition]", "damaged")
        phone.set_input_files(
            "input[name=photo]", {"name": "sign.jpg", "mimeType": "image/jpeg", "buffer": photo.getvalue()}
        )
        phone.click("#sign-check-form button[type=submit]")
        phone.wait_for_selector("#check-saved")
        assert len(list(tmp_path.rglob("*.jpg"))) == 1
        assert errors == []
    finally:
        context.close()
        committed(lambda: _surveyor_cleanup(sign_pk, condition, pinyin))


HOSTILE = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>"


def _hostile_create() -> tuple[int, int]:
    from boundaries.models import Division
    from placenames.office.models import HeritageName, Sign

    sign = Sign.objects.filter(condition="missing").order_by("id").first()
    original = sign.text_pinyin
    Sign.objects.filter(pk=sign.pk).update(text_pinyin=HOSTILE[:160], findings=[{"rule": HOSTILE, "message": HOSTILE}])
    heritage = HeritageName.objects.create(
        name="毒地名" + HOSTILE[:40],
        specific="毒地名",
        district=Division.objects.get(code="500103"),
        point=JIEFANGBEI,
        category="other",
        level="district",
        story=HOSTILE,
        sources=HOSTILE,
        is_synthetic=True,
    )
    return sign.pk, heritage.pk, original


def _hostile_remove(sign_pk: int, heritage_pk: int, original: str) -> None:
    from placenames.office.models import HeritageName, Sign
    from placenames.office.signs import sign_text_apply

    HeritageName.objects.filter(pk=heritage_pk).delete()
    HeritageName.history.filter(id=heritage_pk).delete()
    sign = Sign.objects.get(pk=sign_pk)
    sign.text_pinyin = original
    sign_text_apply(sign)
    Sign.objects.filter(pk=sign_pk).update(text_pinyin=original, findings=sign.findings, is_wrong=sign.is_wrong)


OPEN_EVERY_POPUP = """() => {
  const texts = [];
  window.officeMap.eachLayer(layer => {
    if (layer.getPopup && layer.getPopup() && layer.feature) {
      layer.openTooltip && layer.getTooltip() && layer.openTooltip();
      layer.openPopup();
      texts.push(layer.getPopup().getElement().textContent + " " + layer.getTooltip().getElement().textContent);
    }
  });
  return texts;
}"""


def test_hostile_text_on_the_signs_and_heritage_maps_stays_text(page, portal_server):
    sign_pk, heritage_pk, original = committed(_hostile_create)
    try:
        page.goto(f"{portal_server}/placenames/signs/")
        page.wait_for_selector("#office-map[data-signs]")
        texts = page.evaluate(OPEN_EVERY_POPUP)
        assert any(HOSTILE[:40] in t for t in texts)
        assert HOSTILE[:40] in page.text_content("#sign-list")
        page.goto(f"{portal_server}/placenames/heritage/")
        wait_until(page, "window.officeMap !== undefined")
        texts = page.evaluate(OPEN_EVERY_POPUP)
        assert any(HOSTILE in t for t in texts)
        assert page.evaluate("window.__xss") is None
        assert page.locator("img[src=x]").count() == 0
    finally:
        committed(lambda: _hostile_remove(sign_pk, heritage_pk, original))
