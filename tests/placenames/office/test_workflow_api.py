"""The naming workflow through /api/v1/naming/: the public submits and reads notices but cannot
decide; an officer cannot publish without approval; publishing a new name or a renaming changes
the gazetteer (the old name kept as a former name with its dates); every step is audited; bad input
answers 4xx and writes nothing."""

import datetime

import pytest
from django.utils import timezone

from placenames.models import PlaceName, PlaceNameVariant
from placenames.office.models import NamingApplication, NamingEvent, NoticeComment
from tests.helpers import assert_error
from tests.placenames.office.conftest import JIEFANGBEI, client_for, geojson, point_in, user_with_role

APPLICATIONS = "/api/v1/naming/applications"
TODAY = timezone.localdate


def suggest(client, **fields):
    body = {"kind": "name", "object_type": "road", "name": "望江新路", "location": geojson(JIEFANGBEI)} | fields
    return client.post(APPLICATIONS, body, format="json")


def test_the_public_submits_and_reads_the_notice_but_cannot_decide(db, officer):
    public = client_for(None)
    response = suggest(public, reason="新建道路", meaning="可望长江", submitter_name="市民")
    assert response.status_code == 201, response.content
    body = response.json()
    pk = body["id"]
    assert body["status"] == "checked" and body["district"]["name"] == "渝中区"
    assert "submitter_name" not in body and "events" not in body  # internal
    # Not public before its notice.
    assert_error(public.get(f"{APPLICATIONS}/{pk}"), 404, "not_found")
    today = TODAY()
    opened = client_for(officer).post(
        f"{APPLICATIONS}/{pk}/notice", {"start": today, "end": today + datetime.timedelta(days=9)}, format="json"
    )
    assert opened.status_code == 200, opened.content
    notices = public.get("/api/v1/naming/notices").json()
    [notice] = [n for n in notices if n["id"] == pk]
    assert (notice["notice_start"], notice["notice_end"]) == (str(today), str(today + datetime.timedelta(days=9)))
    assert public.get(f"{APPLICATIONS}/{pk}").json()["name"] == "望江新路"
    comment = public.post(f"{APPLICATIONS}/{pk}/comments", {"author": "张", "text": "赞成"}, format="json")
    assert comment.status_code == 201
    # The public (and a signed-in surveyor) cannot approve, reject or publish.
    for client in (public, client_for(user_with_role("a-surveyor", "surveyor"))):
        decided = client.post(f"{APPLICATIONS}/{pk}/decision", {"approve": True, "reason": "好"}, format="json")
        assert decided.status_code in (401, 403)
        published = client.post(f"{APPLICATIONS}/{pk}/publish", {}, format="json")
        assert published.status_code in (401, 403)
    assert NamingApplication.objects.get(pk=pk).status == "notice"
    assert public.get(APPLICATIONS).status_code == 403


def test_an_officer_cannot_publish_without_approval(db, officer):
    pk = suggest(client_for(None)).json()["id"]
    client = client_for(officer)
    names = PlaceName.objects.count()
    assert_error(client.post(f"{APPLICATIONS}/{pk}/publish", {}, format="json"), 409, "conflict")
    today = TODAY()
    client.post(
        f"{APPLICATIONS}/{pk}/notice", {"start": today, "end": today + datetime.timedelta(days=5)}, format="json"
    )
    # Approval waits for the end of the notice.
    early = client.post(f"{APPLICATIONS}/{pk}/decision", {"approve": True, "reason": "无异议"}, format="json")
    assert_error(early, 409, "conflict")
    assert_error(client.post(f"{APPLICATIONS}/{pk}/publish", {}, format="json"), 409, "conflict")
    assert PlaceName.objects.count() == names
    assert NamingApplication.objects.get(pk=pk).status == "notice"


def test_a_decision_needs_reasons_and_a_rejection_is_final(db, officer):
    pk = suggest(client_for(None)).json()["id"]
    client = client_for(officer)
    assert_error(client.post(f"{APPLICATIONS}/{pk}/decision", {"approve": False, "reason": ""}, format="json"), 400)
    rejected = client.post(f"{APPLICATIONS}/{pk}/decision", {"approve": False, "reason": "与规划不符"}, format="json")
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_reason"] == "与规划不符"
    assert_error(client.post(f"{APPLICATIONS}/{pk}/publish", {}, format="json"), 409, "conflict")


def test_publishing_a_new_name_creates_the_standard_name_and_every_step_is_audited(db, officer):
    pk = suggest(client_for(None), meaning="可望长江").json()["id"]
    client = client_for(officer)
    today = TODAY()
    client.post(f"{APPLICATIONS}/{pk}/notice", {"start": today, "end": today}, format="json")
    approved = client.post(f"{APPLICATIONS}/{pk}/decision", {"approve": True, "reason": "公示无异议"}, format="json")
    assert approved.status_code == 200, approved.content
    published = client.post(f"{APPLICATIONS}/{pk}/publish", {"approval_ref": "渝中地名〔2026〕1号"}, format="json")
    assert published.status_code == 200, published.content
    place = PlaceName.objects.get(pk=published.json()["placename_id"])
    assert (place.name, place.specific, place.generic, place.pinyin) == ("望江新路", "望江新", "路", "Wangjiangxin Lu")
    assert (place.feature_class, place.district.name, place.valid_from) == ("road", "渝中区", today)
    assert place.approval_ref == "渝中地名〔2026〕1号" and place.meaning == "可望长江"
    events = list(NamingEvent.objects.filter(application_id=pk).values_list("action", "from_status", "to_status"))
    assert events == [
        ("submit", "", "submitted"),
        ("check", "submitted", "checked"),
        ("notice", "checked", "notice"),
        ("approve", "notice", "approved"),
        ("publish", "approved", "published"),
    ]
    assert set(
        NamingEvent.objects.filter(application_id=pk, action__in=["notice", "approve", "publish"]).values_list(
            "actor__username", flat=True
        )
    ) == {officer.username}
    detail = client.get(f"{APPLICATIONS}/{pk}").json()
    assert [e["action"] for e in detail["events"]][-1] == "publish"
    found = client_for(None).get("/api/v1/placenames/search", {"q": "望江新路"}).json()
    assert found["features"][0]["properties"]["name"] == "望江新路"


def test_publishing_a_rename_keeps_the_old_name_as_former_with_dates(db, officer):
    place = PlaceName.objects.get(name="解放碑街道")
    response = client_for(None).post(
        APPLICATIONS,
        {"kind": "rename", "object_type": "division", "name": "解放碑商圈街道", "placename_id": place.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    client = client_for(officer)
    today = TODAY()
    client.post(f"{APPLICATIONS}/{pk}/notice", {"start": today, "end": today}, format="json")
    client.post(f"{APPLICATIONS}/{pk}/decision", {"approve": True, "reason": "公示无异议"}, format="json")
    on = today + datetime.timedelta(days=30)
    published = client.post(f"{APPLICATIONS}/{pk}/publish", {"effective_on": on}, format="json")
    assert published.status_code == 200, published.content
    place.refresh_from_db()
    assert (place.name, place.valid_from, place.pinyin) == ("解放碑商圈街道", on, "Jiefangbeishangquan Jiedao")
    former = place.variants.get(kind=PlaceNameVariant.Kind.FORMER, name="解放碑街道")
    assert former.valid_to == on - datetime.timedelta(days=1)
    detail = client_for(None).get(f"/api/v1/placenames/{place.pk}").json()["properties"]
    assert {"name": "解放碑街道", "valid_to": str(on - datetime.timedelta(days=1))}.items() <= next(
        v for v in detail["variants"] if v["kind"] == "former" and v["name"] == "解放碑街道"
    ).items()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "empty"),
        ({"name": "路" * 65}, "at most 64"),
        ({"location": {"type": "Point", "coordinates": [116.39, 39.91]}}, "outside Chongqing"),
        # Inside the bounding box near Chongqing but in Sichuan (west of 永川).
        ({"location": {"type": "Point", "coordinates": [105.2, 29.3]}}, "outside Chongqing"),
        (
            {
                "location": {
                    "type": "Polygon",
                    "coordinates": [[[106.5, 29.5], [106.6, 29.5], [106.6, 29.6], [106.5, 29.5]]],
                }
            },
            "Point or LineString",
        ),
        ({"location": None}, "location"),
        ({"object_type": "tunnel"}, "object_type"),
    ],
    ids=[
        "empty name",
        "over-long name",
        "outside the region",
        "outside the municipality",
        "polygon",
        "no location",
        "object type",
    ],
)
def test_bad_input_answers_400_and_writes_nothing(db, fields, message):
    before = (NamingApplication.objects.count(), NamingEvent.objects.count())
    body = {"kind": "name", "object_type": "road", "name": "望江新路", "location": geojson(JIEFANGBEI)} | fields
    body = {k: v for k, v in body.items() if v is not None}
    response = client_for(None).post(APPLICATIONS, body, format="json")
    assert_error(response, 400)
    assert message in str(response.json())
    assert (NamingApplication.objects.count(), NamingEvent.objects.count()) == before


def test_a_line_location_is_accepted_and_a_line_leaving_chongqing_refused(db):
    start = point_in("500103")
    line = {"type": "LineString", "coordinates": [[start.x, start.y], [start.x + 0.002, start.y + 0.001]]}
    assert suggest(client_for(None), location=line).status_code == 201
    out = {"type": "LineString", "coordinates": [[105.6, 29.4], [105.2, 29.3]]}
    assert_error(suggest(client_for(None), location=out), 400)


def test_comments_only_while_the_notice_runs(db, officer):
    pk = suggest(client_for(None)).json()["id"]
    assert client_for(None).post(f"{APPLICATIONS}/{pk}/comments", {"text": "?"}, format="json").status_code == 404
    today = TODAY()
    client_for(officer).post(
        f"{APPLICATIONS}/{pk}/notice",
        {"start": today + datetime.timedelta(days=3), "end": today + datetime.timedelta(days=9)},
        format="json",
    )
    early = client_for(None).post(f"{APPLICATIONS}/{pk}/comments", {"text": "太早"}, format="json")
    assert_error(early, 409, "conflict")
    assert not NoticeComment.objects.filter(application_id=pk).exists()


def test_publishing_a_cancellation_retires_the_name_with_its_end_date(db, officer):
    place = PlaceName.objects.filter(district__code="500103", feature_class="village").order_by("id").first()
    response = client_for(None).post(
        APPLICATIONS,
        {"kind": "cancel", "object_type": "community", "name": "", "placename_id": place.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == place.name and body["status"] == "checked"
    pk, client, today = body["id"], client_for(officer), TODAY()
    client.post(f"{APPLICATIONS}/{pk}/notice", {"start": today, "end": today}, format="json")
    client.post(f"{APPLICATIONS}/{pk}/decision", {"approve": True, "reason": "社区撤并"}, format="json")
    on = today + datetime.timedelta(days=1)
    assert client.post(f"{APPLICATIONS}/{pk}/publish", {"effective_on": on}, format="json").status_code == 200
    place.refresh_from_db()
    assert (place.status, place.valid_to) == ("retired", today)


def test_an_application_rejected_before_its_notice_stays_private(db, officer):
    pk = suggest(client_for(None)).json()["id"]
    client_for(officer).post(f"{APPLICATIONS}/{pk}/decision", {"approve": False, "reason": "重名"}, format="json")
    assert_error(client_for(None).get(f"{APPLICATIONS}/{pk}"), 404, "not_found")
    assert client_for(officer).get(f"{APPLICATIONS}/{pk}").json()["status"] == "rejected"


def test_suggestions_are_throttled_per_address(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "naming_suggest_anon": "2/hour",
        },
    }
    public = client_for(None)
    assert [suggest(public).status_code for _ in range(3)] == [201, 201, 429]
    assert NamingApplication.objects.filter(name="望江新路").count() == 2


def test_officers_list_applications_and_check_them_again(db, officer):
    pk = suggest(client_for(None)).json()["id"]
    client = client_for(officer)
    listed = client.get(APPLICATIONS, {"status": "checked"}).json()
    assert pk in [a["id"] for a in listed] and {a["status"] for a in listed} == {"checked"}
    assert_error(client.get(APPLICATIONS, {"status": "nonsense"}), 400)
    # A standard name published meanwhile is found when checked again.
    place = PlaceName.objects.get(name="解放碑街道")
    PlaceName.objects.filter(pk=place.pk).update(name="望江新路", pinyin_plain="wangjiangxinlu", feature_class="road")
    again = client.post(f"{APPLICATIONS}/{pk}/recheck", format="json").json()
    assert "scope.same_name" in {f["rule"] for f in again["findings"]}
    assert [e["action"] for e in again["events"]] == ["submit", "check", "check"]
