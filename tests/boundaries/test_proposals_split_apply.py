"""Applying a split: a township of 綦江区 cut by a north-south line (through the middle of its
villages, past its extent) becomes two units: the part with its seat keeps the row and the code, the
part across the line is a new township under the same district. What lies west or east of the line
is known from the x coordinate alone, so each village's and facility's side is checked by hand;
dated queries before the day answer the old single unit; the lines around both are derived again;
a line that does not cut the unit in two is refused with 400 and nothing changes."""

import datetime

import pytest
from django.contrib.gis.geos import Point
from django.db.models import Q
from django.utils import timezone

from boundaries import proposal_apply
from boundaries.history import division_areas_rebuild
from boundaries.history_models import DivisionArea, DivisionChange, DivisionVersion
from boundaries.models import BoundaryLine, Division, DivisionProposal, Inspection, Marker
from boundaries.proposal_services import proposal_apply as proposal_apply_service
from facilities.models import Facility
from facilities.services import facility_create
from placenames.models import PlaceName
from placenames.services import placename_fields
from tests.boundaries.test_proposals import URL, client_for, user_with_role
from tests.boundaries.test_proposals_split import across, draft, line
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _first_split(client) -> tuple[Division, float, int]:
    """The first township of 綦江区 (by code) that a north-south line through its median village cuts
    in two, its line's x, and the submitted proposal's id."""
    for township in Division.objects.filter(parent__code="500110", level="township").order_by("code"):
        split_line = across(township)
        pk = draft(client, township, split_line).json()["id"]
        if client.post(f"{URL}/{pk}/submit").status_code == 200:
            return township, split_line["coordinates"][0][0], pk
    pytest.fail("no township of 綦江区 is cut in two by a north-south line through its median village")


@pytest.fixture
def split():
    """The split submitted and approved (not applied), with what the test needs to reason by hand."""
    planner, admin = user_with_role("planner-sa", "planner"), user_with_role("admin-sa", "administrator")
    township, x, pk = _first_split(client_for(planner))
    assert client_for(admin).post(f"{URL}/{pk}/approve", {}, format="json").status_code == 200
    return DivisionProposal.objects.get(pk=pk), admin, township, x


def _cut_off(point: Point, *, seat: Point, x: float) -> bool:
    """Across the line from the seat."""
    return (point.x < x) != (seat.x < x)


def _township(api, point, **params):
    response = api.get("/api/v1/locate", {"lon": point.x, "lat": point.y, **params})
    assert response.status_code == 200, response.content
    return response.json()["township"]["code"]


def _lines_of(division: Division):
    return BoundaryLine.objects.filter(level="township").filter(Q(left_division=division) | Q(right_division=division))


def test_a_split_takes_effect_the_seat_part_keeps_the_code(api, split):
    proposal, admin, township, x = split
    today = timezone.localdate()
    seat, old_geom, old_area = township.point, township.geom, township.area_m2
    villages = {v.code: v.point for v in township.children.all()}
    west_east = {code: _cut_off(p, seat=seat, x=x) for code, p in villages.items()}
    assert any(west_east.values()) and not all(west_east.values())
    # A facility placed in the part cut off (at a village point there), and the fixtures' own ones.
    village_code = sorted(code for code, cut in west_east.items() if cut)[0]
    placed = facility_create(name="分设测试站", category="elder_station", point=villages[village_code])
    assert placed.division_id == township.pk
    facilities = {f.pk: _cut_off(f.point, seat=seat, x=x) for f in Facility.objects.filter(division=township)}
    # Two place names of no division (a bridge each side of the line, at a village point): by their point.
    village_kept = sorted(code for code, cut in west_east.items() if not cut)[0]
    bridges = {
        far: PlaceName.objects.create(
            **placename_fields(name=f"分设{i + 1}号桥"),
            feature_class="other",
            parent=township,
            district=township.parent,
            point=villages[code],
        ).pk
        for i, (far, code) in enumerate(((True, village_code), (False, village_kept)))
    }
    neighbours = {
        line.left_code if line.right_code == township.code else line.right_code for line in _lines_of(township)
    }
    lengths = {line.code: line.length_m for line in _lines_of(township)}
    # A marker at each vertex of each line (none of them on the cut, which is at x): those across
    # the line from the seat lie on the part of their line that now borders the new unit.
    markers = {}
    for boundary in _lines_of(township):
        for i, (lon, lat) in enumerate(c for part in boundary.geom for c in part.coords):
            number, vertex = f"T{boundary.pk}-{i}", Point(lon, lat)
            Marker.objects.create(number=number, line=boundary, sequence=900 + i, marker_type="single", geom=vertex)
            markers[number] = (boundary.code, _cut_off(vertex, seat=seat, x=x))
    in_cut = next(p for code, p in villages.items() if west_east[code])
    assert _township(api, in_cut) == township.code

    response = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(today)}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "effective"
    result = body["result"]
    new_code = result["new_unit"]["code"]
    assert result["new_unit"]["provisional_code"] is True and new_code.startswith("500110")
    assert result["kept_unit"]["code"] == township.code
    new = Division.objects.get(code=new_code)
    township.refresh_from_db()

    # The two units: the seat's part keeps the code; the new one under the same district.
    assert (new.name, new.kind, new.level, new.parent.code) == ("新分街道", "street", "township", "500110")
    assert township.geom.covers(seat) and not new.geom.covers(seat)
    assert township.area_m2 + new.area_m2 == pytest.approx(old_area, rel=1e-3)
    assert township.geom.union(new.geom).area == pytest.approx(old_geom.area, rel=1e-6)  # degrees², the same plane
    assert township.geom.intersection(new.geom).area == pytest.approx(0, abs=1e-12)
    assert (new.point.x < x) == (seat.x > x)  # the new unit lies across the line

    # Villages on each side under the right township; their versions say so from the day.
    for code, cut in west_east.items():
        village = Division.objects.get(code=code)
        assert village.parent_id == (new.pk if cut else township.pk), code
        if cut:
            assert DivisionVersion.objects.get(code=code, valid_to__isnull=True).parent_code == new_code
            assert DivisionVersion.objects.get(code=code, valid_to=today).parent_code == township.code
    moved = sum(west_east.values())
    assert result["villages_moved"] == moved == new.children.count()
    assert DivisionChange.objects.filter(type="reparented", effective_date=today).count() == moved
    assert new.population == sum(v.population or 0 for v in new.children.all())

    # Facilities follow by location; the place names of the villages that moved too.
    for pk, cut in facilities.items():
        assert Facility.objects.get(pk=pk).division_id == (new.pk if cut else township.pk), pk
    placed.refresh_from_db()
    assert placed.division_id == new.pk and placed.village.parent_id == new.pk
    assert PlaceName.objects.get(pk=bridges[True]).parent_id == new.pk
    assert PlaceName.objects.get(pk=bridges[False]).parent_id == township.pk
    moved_names = PlaceName.objects.filter(division__parent=new)
    assert moved_names.count() == moved and all(p.parent_id == new.pk for p in moved_names)

    # The history: the old version ends on the day, the kept unit goes on under its code, the new
    # one begins split from it; dated queries before the day answer the old single unit.
    old_version = DivisionVersion.objects.get(code=township.code, valid_to=today)
    assert DivisionVersion.objects.get(code=township.code, valid_to__isnull=True).valid_from == today
    change = DivisionChange.objects.get(type="split_from", after__code=new_code)
    assert (change.before_id, change.inferred, change.effective_date) == (old_version.pk, False, today)
    assert _township(api, in_cut) == new_code
    assert _township(api, in_cut, date=str(today)) == new_code
    assert _township(api, in_cut, date=str(today - DAY)) == township.code
    assert _township(api, seat, date=str(today - DAY)) == township.code
    before = api.get("/api/v1/divisions", {"date": str(today - DAY), "parent": "500110", "level": "township"})
    codes_before = {f["properties"]["code"] for f in before.json()["features"]}
    assert township.code in codes_before and new_code not in codes_before
    on_day = api.get("/api/v1/divisions", {"date": str(today), "parent": "500110", "level": "township"})
    assert {township.code, new_code} <= {f["properties"]["code"] for f in on_day.json()["features"]}
    spans = sorted(DivisionArea.objects.filter(division__in=[township, new]).values_list("division_id", "version_id"))
    division_areas_rebuild()  # what the history derives from the split_from change is what was written
    assert spans == sorted(
        DivisionArea.objects.filter(division__in=[township, new]).values_list("division_id", "version_id")
    )
    assert _township(api, in_cut, date=str(today - DAY)) == township.code

    # The lines: one between the two parts; every old neighbour borders one of them or both; the
    # lines that went wholly to the new unit took their history.
    between = BoundaryLine.objects.get(code="-".join(sorted([township.code, new_code])))
    assert between.length_m > 0 and between.last_inspected is None
    after = {
        line.left_code if line.right_code in (township.code, new_code) else line.right_code
        for line in _lines_of(township).union(_lines_of(new))
    }
    assert after - {township.code, new_code} == neighbours
    assert all(line.district.code == "500110" for line in _lines_of(new))
    for record in result["lines_joined"]:
        target = BoundaryLine.objects.get(code=record["code"])
        assert new_code in target.code
        assert target.inspections.count() == sum(part["inspections"] for part in record["replaces"])
    # A line that goes on, shorter, gave the part the new unit borders to a new line: they add up.
    assert result["lines_cut"]
    for record in result["lines_cut"]:
        rest = BoundaryLine.objects.get(code=record["cut_from"])
        assert rest.length_m + record["length_m"] == pytest.approx(lengths[rest.code], rel=1e-4)
        assert BoundaryLine.objects.get(code=record["code"]).last_inspected == rest.last_inspected
    assert {record["code"] for record in result["lines_new"]} == {line.code for line in _lines_of(new)}
    # The impact said which lines would go to the new unit, which would be cut, and the new line.
    impact = proposal.impact
    assert [line["code"] for line in impact["lines_moved"]] == sorted(
        part["code"] for record in result["lines_joined"] for part in record["replaces"]
    )
    cut_from = sorted(record["cut_from"] for record in result["lines_cut"])
    assert [entry["code"] for entry in impact["lines_cut"]] == cut_from
    for entry in impact["lines_cut"]:
        [record] = [r for r in result["lines_cut"] if r["cut_from"] == entry["code"]]
        assert entry["to_new_unit_m"] == pytest.approx(record["length_m"], abs=1)
    assert impact["line_between_m"] == pytest.approx(between.length_m, abs=1)
    cut = {record["cut_from"]: record["code"] for record in result["lines_cut"]}
    for number, (code, far) in markers.items():
        on = Marker.objects.get(number=number).line
        if code in cut:  # the line went on: a marker across goes to the new line with the same neighbour
            assert on.code == (cut[code] if far else code), number
        else:  # the line went wholly to the new unit (joined) or stayed
            assert new_code in on.code if far else on.code == code, number


def test_a_failure_while_applying_a_split_changes_nothing(split, monkeypatch):
    proposal, admin, township, _x = split
    counts = (Division.objects.count(), DivisionVersion.objects.count(), DivisionArea.objects.count())
    lines = (BoundaryLine.objects.count(), Inspection.objects.count())

    def broken(**_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(proposal_apply, "township_lines_derive_around", broken)
    today = timezone.localdate()
    with pytest.raises(RuntimeError):
        proposal_apply_service(proposal=proposal, actor=admin, today=today, effective_date=today)
    proposal.refresh_from_db()
    assert proposal.status == "approved" and proposal.result is None
    assert counts == (Division.objects.count(), DivisionVersion.objects.count(), DivisionArea.objects.count())
    assert lines == (BoundaryLine.objects.count(), Inspection.objects.count())
    assert Division.objects.get(pk=township.pk).geom.equals(township.geom)


def test_a_line_crossing_twice_or_through_the_seat_is_refused_and_nothing_changes():
    planner = user_with_role("planner-sb", "planner")
    client = client_for(planner)
    township, x, _pk = _first_split(client)
    counts = (Division.objects.count(), DivisionVersion.objects.count(), BoundaryLine.objects.count())
    _xmin, ymin, xmax, ymax = township.geom.extent
    # Down across the unit and back up further east: three parts (west, a strip, east).
    x2 = x + (xmax - x) / 2
    twice = line((x, ymin - 0.01), (x, ymax + 0.01), (x2, ymax + 0.01), (x2, ymin - 0.01))
    p = township.point
    through_seat = line((p.x, ymin - 0.01), (p.x, ymax + 0.01))
    for split_line, reason in ((twice, "it gives 3 parts"), (through_seat, "runs through the seat")):
        pk = draft(client, township, split_line).json()["id"]
        response = client.post(f"{URL}/{pk}/submit")
        assert_error(response, 400)
        assert reason in response.json()["error"]["message"], response.json()
        assert DivisionProposal.objects.get(pk=pk).status == "draft"
    assert counts == (Division.objects.count(), DivisionVersion.objects.count(), BoundaryLine.objects.count())
    assert Division.objects.get(pk=township.pk).geom.equals(township.geom)
