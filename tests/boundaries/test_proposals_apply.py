"""Applying an approved proposal: a merger of two touching townships of 綦江区 makes one township
(the union of their polygons, their villages, the sums of their figures), and from its effective
date on ``locate`` answers the merged unit while dated queries before it answer the old ones; the
line between them is retired, the lines to each neighbour join and keep their inspection history;
a failure while applying changes nothing; a proposal due later is applied by the daily command."""

import datetime

import mercantile
import pytest
from django.core.management import call_command
from django.db.models import Q, Sum
from django.utils import timezone
from mapbox_vector_tile import decode

from boundaries import proposal_apply
from boundaries.history import division_areas_rebuild
from boundaries.history_models import DivisionArea, DivisionChange, DivisionVersion
from boundaries.models import BoundaryLine, Division, DivisionProposal, Inspection
from boundaries.proposal_services import proposal_apply as proposal_apply_service
from placenames.models import PlaceName
from tests.boundaries.test_proposals import GUNAN, URL, XINSHENG, client_for, merger, user_with_role
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def approved():
    """A merger of 古南街道 and 新盛街道 into 南州街道, submitted and approved (not applied)."""
    planner = user_with_role("planner-m", "planner")
    admin = user_with_role("admin-m", "administrator")
    pk = merger(client_for(planner)).json()["id"]
    assert client_for(planner).post(f"{URL}/{pk}/submit").status_code == 200
    assert client_for(admin).post(f"{URL}/{pk}/approve", {}, format="json").status_code == 200
    return DivisionProposal.objects.get(pk=pk), admin


def _township(api, point, **params):
    response = api.get("/api/v1/locate", {"lon": point.x, "lat": point.y, **params})
    assert response.status_code == 200, response.content
    return response.json()["township"]["code"], response.json()["township"]["name"]


def test_a_merger_takes_effect_and_dated_locate_answers_the_old_units_before_it(api, approved):
    proposal, admin = approved
    today = timezone.localdate()
    old = {d.code: d for d in Division.objects.filter(code__in=[GUNAN, XINSHENG])}
    in_gunan, in_xinsheng = old[GUNAN].point, old[XINSHENG].point
    villages = set(Division.objects.filter(parent__in=old.values()).values_list("code", flat=True))
    population = Division.objects.filter(parent__in=old.values()).aggregate(n=Sum("population"))["n"]
    inner = BoundaryLine.objects.get(code=f"{GUNAN}-{XINSHENG}")
    outer = list(
        BoundaryLine.objects.filter(level="township")
        .filter(Q(code__contains=GUNAN) | Q(code__contains=XINSHENG))
        .exclude(pk=inner.pk)
    )
    neighbours = {line.left_code if line.right_code in old else line.right_code for line in outer}
    inspections = {line.code: set(line.inspections.values_list("id", flat=True)) for line in outer}
    assert _township(api, in_gunan) == (GUNAN, "古南街道")

    response = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(today)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "effective"
    new_code = body["result"]["new_unit"]["code"]
    assert body["result"]["new_unit"]["provisional_code"] is True and new_code.startswith("500110")
    new = Division.objects.get(code=new_code)
    assert "provisional code" in new.source

    # The new unit: the union of the two, their villages, the sums of their figures.
    assert (new.name, new.kind, new.parent.code, new.level) == ("南州街道", "street", "500110", "township")
    assert new.area_m2 == pytest.approx(sum(d.area_m2 for d in old.values()), rel=1e-6)
    assert new.population == population
    assert set(Division.objects.filter(parent=new).values_list("code", flat=True)) == villages
    assert not Division.objects.filter(code__in=[GUNAN, XINSHENG]).exists()

    # Locate: the merged unit undated and from the effective date on, the old units the day before.
    for point in (in_gunan, in_xinsheng):
        assert _township(api, point) == (new_code, "南州街道")
        assert _township(api, point, date=str(today)) == (new_code, "南州街道")
    assert _township(api, in_gunan, date=str(today - DAY)) == (GUNAN, "古南街道")
    assert _township(api, in_xinsheng, date=str(today - DAY)) == (XINSHENG, "新盛街道")
    division_areas_rebuild()  # as after a staff review of an inferred change: the parts are kept
    assert _township(api, in_xinsheng, date=str(today - DAY)) == (XINSHENG, "新盛街道")
    assert _township(api, in_xinsheng, date=str(today)) == (new_code, "南州街道")
    before = api.get("/api/v1/locate", {"lon": in_gunan.x, "lat": in_gunan.y, "date": str(today - DAY)}).json()
    assert before["village"]["code"] in villages
    assert api.get("/api/v1/locate", {"lon": in_gunan.x, "lat": in_gunan.y}).json()["village"]["code"] in villages

    # The history: the old versions end on the day, the new one begins; merged_into, not inferred.
    for code in (GUNAN, XINSHENG):
        version = DivisionVersion.objects.get(code=code, valid_to=today)
        assert version.division_id is None
        change = DivisionChange.objects.get(before=version)
        assert (change.type, change.after.code, change.inferred, change.effective_date) == (
            "merged_into",
            new_code,
            False,
            today,
        )
        assert f"#{proposal.pk}" in change.evidence
    assert DivisionVersion.objects.get(code=new_code).valid_from == today
    assert DivisionChange.objects.filter(type="reparented", effective_date=today).count() == len(villages)
    # Dated lists: the day before, the two; on the day, the merged one.
    on_day = api.get("/api/v1/divisions", {"date": str(today), "parent": "500110", "level": "township"}).json()
    day_before = api.get("/api/v1/divisions", {"date": str(today - DAY), "parent": "500110", "level": "township"})
    codes_on_day = {f["properties"]["code"] for f in on_day["features"]}
    codes_before = {f["properties"]["code"] for f in day_before.json()["features"]}
    assert new_code in codes_on_day and not {GUNAN, XINSHENG} & codes_on_day
    assert {GUNAN, XINSHENG} <= codes_before and new_code not in codes_before
    [gunan_before] = [f for f in day_before.json()["features"] if f["properties"]["code"] == GUNAN]
    assert gunan_before["geometry"]["type"] == "MultiPolygon"  # its part of the merged unit
    assert DivisionArea.objects.filter(division=new).count() >= 3
    # Dated tiles: the day before, each old unit is drawn as its own part, not as the merged polygon.
    t = mercantile.tile(in_gunan.x, in_gunan.y, 9)
    tile = api.get(f"/tiles/townships/9/{t.x}/{t.y}.pbf", {"date": str(today - DAY)})
    drawn = {f["properties"]["code"]: f["geometry"] for f in decode(tile.content)["townships"]["features"]}
    assert GUNAN in drawn and XINSHENG in drawn and new_code not in drawn
    assert drawn[GUNAN] != drawn[XINSHENG]

    # The lines: the one between them retired; one line to each neighbour, with the parts' inspections.
    assert not BoundaryLine.objects.filter(pk=inner.pk).exists()
    assert [line["code"] for line in body["result"]["lines_retired"]] == [inner.code]
    joined = BoundaryLine.objects.filter(level="township").filter(Q(left_division=new) | Q(right_division=new))
    assert {line.left_code if line.right_code == new_code else line.right_code for line in joined} == neighbours
    assert all(line.district.code == "500110" for line in joined)
    for line in joined:
        neighbour = line.left_code if line.right_code == new_code else line.right_code
        parts = [old_line for old_line in outer if neighbour in (old_line.left_code, old_line.right_code)]
        assert parts
        expected = set().union(*(inspections[p.code] for p in parts))
        assert set(line.inspections.values_list("id", flat=True)) == expected
        dates = [p.last_inspected for p in parts]
        assert line.last_inspected == (None if None in dates else min(dates))
    assert sum(len(group["replaces"]) for group in body["result"]["lines_joined"]) == len(outer)

    # The place names follow: the old units' names retired on the day, the villages' under the new unit.
    retired = PlaceName.objects.filter(name__in=["古南街道", "新盛街道"], district__code="500110")
    assert retired.count() == 2 and all(p.status == "retired" and p.valid_to == today for p in retired)
    assert PlaceName.objects.filter(parent=new).count() >= len(villages)


def test_a_failure_while_applying_changes_nothing(approved, monkeypatch):
    proposal, admin = approved
    counts = (
        Division.objects.count(),
        DivisionVersion.objects.count(),
        DivisionChange.objects.count(),
        DivisionArea.objects.count(),
        BoundaryLine.objects.count(),
        Inspection.objects.count(),
    )

    def broken(**_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(proposal_apply, "township_lines_derive_around", broken)
    with pytest.raises(RuntimeError):
        today = timezone.localdate()
        proposal_apply_service(proposal=proposal, actor=admin, today=today, effective_date=today)
    proposal.refresh_from_db()
    assert proposal.status == "approved" and proposal.result is None
    assert counts == (
        Division.objects.count(),
        DivisionVersion.objects.count(),
        DivisionChange.objects.count(),
        DivisionArea.objects.count(),
        BoundaryLine.objects.count(),
        Inspection.objects.count(),
    )
    assert Division.objects.filter(code__in=[GUNAN, XINSHENG], geom__isnull=False).count() == 2
    assert DivisionVersion.objects.filter(code__in=[GUNAN, XINSHENG], valid_to__isnull=True).count() == 2


def test_a_future_day_is_applied_by_the_daily_command(api, approved):
    proposal, admin = approved
    today = timezone.localdate()
    later = today + 10 * DAY
    point = Division.objects.get(code=GUNAN).point
    response = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(later)}, format="json")
    assert response.json()["status"] == "approved"
    call_command("apply_due_proposals", today=today + 9 * DAY)
    assert DivisionProposal.objects.get(pk=proposal.pk).status == "approved"
    call_command("apply_due_proposals", today=later)
    proposal.refresh_from_db()
    assert proposal.status == "effective"
    assert _township(api, point, date=str(later - DAY)) == (GUNAN, "古南街道")
    assert _township(api, point, date=str(later))[1] == "南州街道"


def test_only_administrators_apply(approved):
    proposal, _admin = approved
    planner = proposal.author
    assert_error(client_for(planner).post(f"{URL}/{proposal.pk}/apply", {}, format="json"), 403, "forbidden")


def test_a_kind_change_renames_the_unit_from_its_day(api):
    planner, admin = user_with_role("planner-k", "planner"), user_with_role("admin-k", "administrator")
    town = Division.objects.filter(level="township", kind="town", name__endswith="镇").order_by("code").first()
    lines = {line.pk: line.name for line in BoundaryLine.objects.filter(Q(left_division=town) | Q(right_division=town))}
    pk = client_for(planner).post(URL, {"kind": "town_to_street", "units": [town.code]}, format="json").json()["id"]
    client_for(planner).post(f"{URL}/{pk}/submit")
    client_for(admin).post(f"{URL}/{pk}/approve", {}, format="json")
    today = timezone.localdate()
    applied = client_for(admin).post(f"{URL}/{pk}/apply", {"effective_date": str(today)}, format="json").json()
    assert applied["status"] == "effective"
    street = town.name[:-1] + "街道"
    town.refresh_from_db()
    assert (town.name, town.kind) == (street, "street")
    assert _township(api, town.point) == (town.code, street)
    assert _township(api, town.point, date=str(today - DAY))[1] == town.name[:-2] + "镇"
    change = DivisionChange.objects.get(after__code=town.code, effective_date=today)
    assert change.type == "town_to_street" and not change.inferred
    for line in BoundaryLine.objects.filter(pk__in=lines):
        assert street in line.name and line.name != lines[line.pk]
    assert PlaceName.objects.get(division=town).name == street


def test_a_kind_change_with_a_new_code_carries_the_lines_and_villages(api):
    """镇→街道 under a new code, as 新盛镇 500110122 became 新盛街道 500110006: the unit keeps its
    polygon; its lines are derived under the new code with their inspections; its villages' versions
    name the new parent from the day, the old one before it."""
    planner, admin = user_with_role("planner-r", "planner"), user_with_role("admin-r", "administrator")
    town = Division.objects.filter(level="township", kind="town", name__endswith="镇").order_by("-code").first()
    old_code, new_code = town.code, f"{town.code[:6]}099"
    assert not Division.objects.filter(code=new_code).exists()
    old_lines = {
        (line.left_code if line.right_code == old_code else line.right_code): set(
            line.inspections.values_list("id", flat=True)
        )
        for line in BoundaryLine.objects.filter(Q(left_division=town) | Q(right_division=town))
    }
    village = Division.objects.filter(parent=town).order_by("code").first()
    body = {"kind": "town_to_street", "units": [old_code], "new_code": new_code}
    pk = client_for(planner).post(URL, body, format="json").json()["id"]
    assert client_for(planner).post(f"{URL}/{pk}/submit").status_code == 200
    client_for(admin).post(f"{URL}/{pk}/approve", {}, format="json")
    today = timezone.localdate()
    applied = client_for(admin).post(f"{URL}/{pk}/apply", {"effective_date": str(today)}, format="json")
    assert applied.json()["status"] == "effective", applied.content
    town.refresh_from_db()
    assert (town.code, town.kind) == (new_code, "street")
    assert _township(api, town.point) == (new_code, town.name)
    assert _township(api, town.point, date=str(today - DAY))[0] == old_code
    lines = BoundaryLine.objects.filter(Q(left_division=town) | Q(right_division=town))
    assert {line.left_code if line.right_code == new_code else line.right_code for line in lines} == set(old_lines)
    for line in lines:
        neighbour = line.left_code if line.right_code == new_code else line.right_code
        assert new_code in line.code
        assert set(line.inspections.values_list("id", flat=True)) == old_lines[neighbour]
    assert not BoundaryLine.objects.filter(code__contains=old_code).exists()
    assert DivisionVersion.objects.get(code=village.code, valid_to__isnull=True).parent_code == new_code
    assert DivisionVersion.objects.get(code=village.code, valid_to=today).parent_code == old_code


def _upload(line: BoundaryLine, user, sha: str):
    from boundaries.models import SurveyTeam
    from boundaries.surveys.models import SurveyUpload

    team, _ = SurveyTeam.objects.get_or_create(name="綦江测量队")
    return SurveyUpload.objects.create(
        line=line, team=team, uploaded_by=user, file="survey_uploads/x.geojson", original_name="x.geojson",
        sha256=sha * 64, size_bytes=1, file_format="geojson", crs=4326, crs_source="file",
        survey_date=datetime.date(2026, 5, 1), tolerance_m=5,
    )  # fmt: skip


def test_survey_uploads_follow_the_joined_line_and_an_upload_of_the_retired_line_refuses_the_change(approved):
    proposal, admin = approved
    today = timezone.localdate()
    inner = BoundaryLine.objects.get(code=f"{GUNAN}-{XINSHENG}")
    outer = BoundaryLine.objects.filter(level="township", code__contains=GUNAN).exclude(pk=inner.pk).first()
    on_outer = _upload(outer, admin, "a")
    on_inner = _upload(inner, admin, "b")
    lines_before = set(BoundaryLine.objects.values_list("code", flat=True))

    refused = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(today)}, format="json")
    assert_error(refused, 409, code="conflict")
    assert inner.code in refused.json()["error"]["message"]
    assert set(BoundaryLine.objects.values_list("code", flat=True)) == lines_before  # nothing changed
    assert Division.objects.filter(code__in=[GUNAN, XINSHENG]).count() == 2

    on_inner.delete()  # staff withdrew it
    inner_inspections = list(inner.inspections.order_by("date", "id").values_list("date", "result"))
    applied = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(today)}, format="json")
    assert applied.status_code == 200, applied.content
    on_outer.refresh_from_db()
    neighbour = outer.left_code if outer.right_code == GUNAN else outer.right_code
    assert on_outer.line.code != outer.code and neighbour in on_outer.line.code  # the joined line to that neighbour
    (retired,) = applied.json()["result"]["lines_retired"]
    assert retired["code"] == inner.code and retired["geometry"]["type"] == "MultiLineString"
    kept = [(datetime.date.fromisoformat(r["date"]), r["result"]) for r in retired["inspection_records"]]
    assert kept == inner_inspections and retired["inspections"] == len(inner_inspections)
