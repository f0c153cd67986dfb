"""The office's pages through Django's test client: the suggestion form (and its refusals), the
notice page, the officers' desk (and who may not use it), the signs and the phone-sized check, the
heritage page, the story edit that keeps its history, and the printed register of 渝中区 as PDF."""

import datetime
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone
from PIL import Image

from placenames.models import PlaceName
from placenames.office.models import NamingApplication, Sign, SignCheck
from tests.placenames.office.conftest import JIEFANGBEI

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SUGGESTION = {
    "object_type": "road",
    "name": "望江新路",
    "lon": str(JIEFANGBEI.x),
    "lat": str(JIEFANGBEI.y),
    "reason": "新建道路",
}


def test_a_suggestion_from_the_page_is_checked_and_shown_with_its_findings(client):
    response = client.post("/placenames/naming/suggest/", SUGGESTION | {"name": "解放碑路"})
    assert response.status_code == 200
    text = response.content.decode()
    application = NamingApplication.objects.get(name="解放碑路")
    assert f'id="application-id">{application.pk}<' in text
    assert application.status == "checked" and application.district.name == "渝中区"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "empty"),
        ({"name": "路" * 65}, "at most 64"),
        ({"lon": "116.39", "lat": "39.91"}, "outside Chongqing"),
        ({"lon": "abc"}, "numbers"),
    ],
    ids=["empty", "over-long", "outside", "not a number"],
)
def test_a_refused_suggestion_says_why_and_writes_nothing(client, fields, message):
    count = NamingApplication.objects.count()
    response = client.post("/placenames/naming/suggest/", SUGGESTION | fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert NamingApplication.objects.count() == count


def test_the_desk_is_for_naming_officers_only(client, officer, surveyor):
    assert client.get("/placenames/naming/desk/").status_code == 302  # to sign in
    client.force_login(surveyor)
    assert client.get("/placenames/naming/desk/").status_code == 403
    client.force_login(officer)
    assert client.get("/placenames/naming/desk/").status_code == 200


def test_an_officer_runs_the_workflow_on_the_pages(client, officer):
    client.post("/placenames/naming/suggest/", SUGGESTION)
    application = NamingApplication.objects.get(name="望江新路")
    url = f"/placenames/naming/desk/{application.pk}/"
    notice_url = f"/placenames/naming/notices/{application.pk}/"
    assert client.get(notice_url).status_code == 404  # not public before its notice
    client.force_login(officer)
    today = timezone.localdate().isoformat()
    publish_early = client.post(url, {"step": "publish"})
    assert publish_early.status_code == 409
    assert client.post(url, {"step": "notice", "start": today, "end": today}).status_code == 302
    client.logout()
    page = client.get("/placenames/naming/notices/").content.decode()
    assert "望江新路" in page
    assert client.post(notice_url, {"author": "李", "text": "同意"}).status_code == 302
    assert "同意" in client.get(notice_url).content.decode()
    client.force_login(officer)
    assert client.post(url, {"step": "decide", "decision": "approve", "reason": "公示期满无异议"}).status_code == 302
    assert client.post(url, {"step": "publish", "effective_on": today}).status_code == 302
    application.refresh_from_db()
    assert application.status == "published"
    page = client.get(url).content.decode()
    assert "publish" in page and "公示期满无异议" in page
    assert PlaceName.objects.get(pk=application.placename_id).name == "望江新路"


def test_the_story_edit_keeps_the_history(client, officer):
    place = PlaceName.objects.get(name="解放碑街道")
    client.force_login(officer)
    assert 'id="edit-story"' in client.get(f"/placenames/{place.pk}/").content.decode()
    before = place.history.count()
    response = client.post(
        f"/placenames/{place.pk}/story/", {"meaning": "因抗战胜利纪功碑得名。", "history_text": "1947年建碑。"}
    )
    assert response.status_code == 302
    place.refresh_from_db()
    assert place.meaning == "因抗战胜利纪功碑得名。"
    latest = place.history.order_by("-history_date").first()
    assert place.history.count() == before + 1 and latest.history_user == officer
    assert "因抗战胜利纪功碑得名。" in client.get(f"/placenames/{place.pk}/").content.decode()
    client.logout()
    assert client.post(f"/placenames/{place.pk}/story/", {"meaning": "x"}).status_code == 302  # to sign in
    place.refresh_from_db()
    assert place.meaning == "因抗战胜利纪功碑得名。"


def test_signs_and_heritage_pages(client, surveyor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = client.get("/placenames/signs/").content.decode()
    assert 'id="sign-list"' in page
    heritage = client.get("/placenames/heritage/").content.decode()
    assert "龚滩镇" in heritage and "涞滩镇" in heritage
    sign = Sign.objects.filter(condition="good").order_by("id").first()
    client.force_login(surveyor)
    url = f"/placenames/signs/{sign.pk}/check/"
    assert 'capture="environment"' in client.get(url).content.decode()
    refused = client.post(url, {"condition": "damaged", "photo": io.BytesIO(b"not an image")})
    assert refused.status_code in (400, 415) and not SignCheck.objects.exists()
    photo = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 90, 0)).save(photo, "PNG")
    photo.seek(0)
    photo.name = "sign.png"
    saved = client.post(url, {"condition": "damaged", "photo": photo})
    assert saved.status_code == 200 and 'id="check-saved"' in saved.content.decode()
    sign.refresh_from_db()
    assert sign.condition == "damaged" and sign.last_checked == datetime.date.today()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_the_register_of_yuzhong_as_pdf_holds_its_names_and_its_map(client):
    response = client.get("/placenames/register/500103/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "register-500103.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "渝中区" in text and "解放碑街道" in text and "Jiefangbei Jiedao" in text
    assert "500103001" in text  # codes are printed
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    assert "CJK" in fonts and " yes " in fonts  # embedded
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(ARTIFACTS / "register-500103")],
        check=True,
    )
    [picture] = ARTIFACTS.glob("register-500103-*1.png")
    with Image.open(picture) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    # The map's district fill (#9ecae1) is on the first page.
    assert any(abs(c[1][0] - 0x9E) < 8 and abs(c[1][1] - 0xCA) < 8 and abs(c[1][2] - 0xE1) < 8 for c in colours)
    assert client.get("/placenames/register/999999/pdf/").status_code == 404
