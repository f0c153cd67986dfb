"""Moving villages to a neighbouring township (移交村（社区）到相邻乡镇): a township of 綦江区 gives
the village nearest its edge with a neighbour to that neighbour. The area moved is the village's
Voronoi cell among the township's villages, clipped to the township: both units' areas add up to
what they were, the village (its population, its point, a facility placed there) goes to the
neighbour, and dated locate answers the source before the day and the neighbour from it. The
lines: the one between source and target changes by the lengths the impact gave; where the area
moved also borders a third township, the source's line to it goes on shorter and the target's takes
the stretch with the markers on it. Each bad input is refused with 400 naming the reason, and
nothing changes."""

import datetime
from collections.abc import Iterator

import pytest
from django.contrib.gis.geos import Point
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from boundaries.history import division_areas_rebuild
from boundaries.history_models import DivisionArea, DivisionChange, DivisionVersion
from boundaries.models import BoundaryLine, Division, DivisionProposal, Marker
from boundaries.proposals import move_villages_impact, move_villages_parts
from facilities.services import facility_create
from gis_portal.core.errors import InvalidParameter
from tests.boundaries.test_proposals import URL, client_for, user_with_role
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _neighbours(township: Division) -> list[Division]:
    """The townships that share a township line with ``township``, by code."""
    lines = _lines_of(township)
    codes = {line.left_code if line.right_code == township.code else line.right_code for line in lines}
    return list(Division.objects.filter(code__in=codes, level="township").order_by("code"))


def _lines_of(township: Division):
    return BoundaryLine.objects.filter(level="township", valid_to__isnull=True).filter(
        Q(left_division=township) | Q(right_division=township)
    )


def _other(line_code: str, township: Division) -> str:
    """The code on the other side of a township line from ``township``."""
    return next(code for code in line_code.split("-") if code != township.code)


def _pair(a: Division, neighbour_code: str) -> str:
    return "-".join(sorted((a.code, neighbour_code)))


def _shared_line(a: Division, b: Division) -> BoundaryLine:
    return BoundaryLine.objects.get(level="township", code="-".join(sorted((a.code, b.code))))


def _movable(*, nearest: int) -> Iterator[tuple[Division, Division, Division, dict]]:
    """The moves ``move_villages_parts`` accepts in 綦江区: for each township (by code) with at least
    three villages and each of its neighbours, its ``nearest`` villages to their shared line, nearest
    first: (source, target, village, parts)."""
    for source in Division.objects.filter(parent__code="500110", level="township").order_by("code"):
        villages = list(source.children.filter(level="village").order_by("code"))
        if len(villages) < 3:
            continue
        for target in _neighbours(source):
            edge = _shared_line(source, target).geom
            for village in sorted(villages, key=lambda v: v.point.distance(edge))[:nearest]:
                try:
                    parts = move_villages_parts(code=source.code, villages=[village.code], target_code=target.code)
                except InvalidParameter:
                    continue
                yield source, target, village, parts


def _move_case() -> tuple[Division, Division, Division]:
    """The first township of 綦江区 (by code) with at least three villages and a neighbour such that
    the village nearest their shared line can be moved to it: (source, target, village)."""
    for source, target, village, _ in _movable(nearest=1):
        return source, target, village
    pytest.fail("no village of 綦江区 can be moved to the neighbour nearest it")


def _draft(client, source: Division, villages: list[str], target_code: str) -> int:
    body = {"kind": "move_villages", "units": [source.code], "villages": villages, "target_code": target_code}
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _township_at(api, point, day: datetime.date) -> str:
    response = api.get("/api/v1/locate", {"lon": point.x, "lat": point.y, "date": str(day)})
    assert response.status_code == 200, response.content
    return response.json()["township"]["code"]


def test_moving_a_village_to_its_neighbour_takes_effect(api):
    planner, admin = user_with_role("planner-mv", "planner"), user_with_role("admin-mv", "administrator")
    source, target, village = _move_case()
    today = timezone.localdate()
    before = {d.code: (d.area_m2, d.geom.area) for d in (source, target)}
    people = {d.code: sum(v.population for v in d.children.filter(level="village")) for d in (source, target)}
    source_villages = source.children.filter(level="village").count()
    placed = facility_create(name="移交测试站", category="elder_station", point=village.point)
    assert placed.division_id == source.pk

    pk = _draft(client_for(planner), source, [village.code], target.code)
    response = client_for(planner).post(f"{URL}/{pk}/submit")
    assert response.status_code == 200, response.content
    impact = response.json()["impact"]
    [source_before, target_before] = impact["units"]
    [source_after, target_after] = impact["units_after"]
    assert (source_before["code"], target_before["code"]) == (source.code, target.code)
    assert impact["villages_moved"] == [{"code": village.code, "name": village.name}]
    assert (impact["moved"]["villages"], impact["moved"]["population"]) == (1, village.population)
    assert source_after["villages"] == source_villages - 1 == source_before["villages"] - 1
    assert target_after["population"] == people[target.code] + village.population
    assert source_after["population"] == people[source.code] - village.population
    assert source_after["area_m2"] + target_after["area_m2"] == pytest.approx(
        source_before["area_m2"] + target_before["area_m2"], rel=1e-4
    )
    # Geodesic areas take edges as great-circle arcs: the vertices the cut puts on the source's long
    # straight (lon/lat) edges shift them a little, so the parts add up to about 0.01% only.
    assert source_after["area_m2"] + impact["moved"]["area_m2"] == pytest.approx(source_before["area_m2"], rel=1e-3)
    # The facility at the village's point is counted in the target after (the facilities' answer).
    after_units = {u["code"]: u["total"] for u in impact["facilities"]["after"]["units"]}
    before_units = {u["code"]: u["total"] for u in impact["facilities"]["before"]["units"]}
    assert after_units[target.code] >= before_units[target.code] + 1
    assert sum(after_units.values()) == sum(before_units.values())

    # The page says it as text, in Chinese: both units after, the village moved, the receiving township.
    page_client = Client()
    page_client.force_login(admin)
    page = page_client.get(f"/divisions/proposals/{pk}/").content.decode()
    assert "移交后" in page and "接收乡镇" in page and village.name in page and target.code in page
    assert f"{target_after['population']}" in page and f"{source_after['population']}" in page

    lines_before = {line.code: line.length_m for line in _lines_of(source)}
    admin_client = client_for(admin)
    assert admin_client.post(f"{URL}/{pk}/approve", {}, format="json").status_code == 200
    response = admin_client.post(f"{URL}/{pk}/apply", {"effective_date": str(today)}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "effective"
    source.refresh_from_db()
    target.refresh_from_db()
    village.refresh_from_db()

    # Areas: what the two had together they still have, split as the impact said.
    assert source.area_m2 + target.area_m2 == pytest.approx(sum(a for a, _ in before.values()), rel=1e-4)
    assert source.geom.area + target.geom.area == pytest.approx(sum(g for _, g in before.values()), rel=1e-4)
    assert source.area_m2 == pytest.approx(source_after["area_m2"], abs=0.1)
    assert target.area_m2 == pytest.approx(target_after["area_m2"], abs=0.1)
    assert source.geom.intersection(target.geom).area == pytest.approx(0, abs=1e-9)
    assert source.geom.covers(source.point) and target.geom.covers(village.point)
    assert not source.geom.contains(village.point)
    # Population: the village's goes with it; both equal the impact's.
    assert (source.population, target.population) == (source_after["population"], target_after["population"])
    assert source.population + target.population == people[source.code] + people[target.code]
    # The village is the target's, and its versions say so from the day.
    assert village.parent_id == target.pk
    assert DivisionVersion.objects.get(code=village.code, valid_to__isnull=True).parent_code == target.code
    assert DivisionVersion.objects.get(code=village.code, valid_to=today).parent_code == source.code
    change = DivisionChange.objects.get(derived_key=f"proposal:{pk}", type="reparented")
    assert (change.before.code, change.after.parent_code, change.effective_date) == (village.code, target.code, today)
    for code in (source.code, target.code):  # both units go on from the day under their codes
        assert DivisionVersion.objects.get(code=code, valid_to__isnull=True).valid_from == today
    # Dated locate: the source the day before, the target from the day; the target's old land stays
    # its own. The same after the history derives the spans again (the parts' spans are kept).
    for rebuilt in (False, True):
        if rebuilt:
            division_areas_rebuild()
        assert _township_at(api, village.point, today - DAY) == source.code
        assert _township_at(api, village.point, today) == target.code
        assert _township_at(api, target.point, today - DAY) == target.code
        assert _township_at(api, source.point, today) == source.code
        assert _township_at(api, source.point, today - DAY) == source.code
        # Only the source's version answers for the village's point the day before (no tie for locate to break).
        then = (
            DivisionArea.objects.filter(division=target, valid_to__gt=today - DAY)
            .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today - DAY))
            .filter(Q(geom__isnull=True) | Q(geom__covers=village.point))
        )
        assert {span.version.code for span in then} == {source.code}
    # The facility placed at the village moved with it.
    placed.refresh_from_db()
    assert placed.division_id == target.pk
    # The line between them goes on (along the new stretch); no line of the source is left unlinked.
    line = _shared_line(source, target)
    assert line.valid_to is None and {line.left_division_id, line.right_division_id} == {source.pk, target.pk}
    # Its length: the stretch along the area moved goes, the new stretch between the two comes (metres).
    changed = {entry["code"]: entry for entry in impact["lines_changed"]}
    assert line.length_m == pytest.approx(
        lines_before[line.code] - changed[line.code]["along_moved_m"] + impact["line_between_m"], abs=2.0
    )
    # The source's other lines are as they were unless the impact named them.
    named = set(changed) | {entry["code"] for entry in impact["lines_to_target"]}
    for code, length in lines_before.items():
        if code not in named:
            assert BoundaryLine.objects.get(code=code).length_m == pytest.approx(length, abs=0.01), code
    page = page_client.get(f"/divisions/proposals/{pk}/").content.decode()
    assert f"{source.name} " in page and f"→ {target.name}" in page


@pytest.fixture
def planner_client():
    return client_for(user_with_role("planner-mv-bad", "planner"))


def _refused(client, source: Division, villages: list[str], target_code: str, reason: str) -> None:
    """Submitting answers 400 naming ``reason``; the proposal stays a draft and nothing moved."""
    pk = _draft(client, source, villages, target_code)
    state = {d.code: (d.parent_id, d.geom) for d in Division.objects.filter(code__in=villages)}
    response = client.post(f"{URL}/{pk}/submit")
    assert_error(response, 400)
    assert reason in response.json()["error"]["message"]
    assert DivisionProposal.objects.get(pk=pk).status == "draft"
    assert DivisionProposal.objects.get(pk=pk).impact is None
    assert {d.code: (d.parent_id, d.geom) for d in Division.objects.filter(code__in=villages)} == state


def test_a_village_not_of_the_source_is_refused(planner_client):
    source, target, _village = _move_case()
    foreign = target.children.filter(level="village").order_by("code").first()
    _refused(planner_client, source, [foreign.code], target.code, f"{foreign.code} not a current village")


def test_moving_all_the_villages_is_refused(planner_client):
    source, target, _village = _move_case()
    codes = list(source.children.filter(level="village").values_list("code", flat=True))
    _refused(planner_client, source, codes, target.code, "(that is a merger)")


def test_a_target_in_another_district_is_refused(planner_client):
    source, _target, village = _move_case()
    other = Division.objects.filter(level="township").exclude(parent__code="500110").order_by("code").first()
    _refused(planner_client, source, [village.code], other.code, "lies in another district")


def test_a_target_that_does_not_touch_the_area_moved_is_refused(planner_client):
    source, target, village = _move_case()
    touching = {d.pk for d in _neighbours(source)}
    far = (
        Division.objects.filter(parent__code="500110", level="township")
        .exclude(pk__in=touching | {source.pk})
        .order_by("code")
        .first()
    )
    _refused(planner_client, source, [village.code], far.code, "does not share a boundary")
    # A neighbour of the source that the village's area does not reach is refused the same way.
    for other in _neighbours(source):
        if other.pk == target.pk:
            continue
        try:
            move_villages_parts(code=source.code, villages=[village.code], target_code=other.code)
        except InvalidParameter as refused:
            if "does not share a boundary" in str(refused):
                _refused(planner_client, source, [village.code], other.code, "does not share a boundary")
                break


def test_moving_the_seats_village_is_refused(planner_client):
    source, target, _village = _move_case()
    # The seat lies in the Voronoi cell of the village nearest it.
    nearest = min(source.children.filter(level="village"), key=lambda v: v.point.distance(source.point))
    _refused(planner_client, source, [nearest.code], target.code, "would take the seat")


def test_a_move_names_its_villages_and_target_when_drafted(planner_client):
    source, target, village = _move_case()
    body = {"kind": "move_villages", "units": [source.code], "target_code": target.code}
    assert_error(planner_client.post(URL, body, format="json"), 400)
    body = {"kind": "move_villages", "units": [source.code], "villages": [village.code]}
    assert_error(planner_client.post(URL, body, format="json"), 400)
    body = {"kind": "rename", "units": [source.code], "new_name": "某镇", "villages": [village.code]}
    assert_error(planner_client.post(URL, body, format="json"), 400)


def _three_way_case(today: datetime.date) -> tuple[Division, Division, Division, dict]:
    """The first village of 綦江区 (townships by code) near its township's edge with a neighbour whose
    area moved also borders a third township: (source, target, village, impact)."""
    for source, target, village, parts in _movable(nearest=3):
        impact = move_villages_impact(parts=parts, today=today)
        third = [e for e in impact["lines_changed"] if target.code not in e["code"]]
        if impact["lines_to_target"] or third:
            return source, target, village, impact
    pytest.fail("no village of 綦江区 whose area borders both a neighbour and a third township")


def test_a_move_gives_the_stretch_along_a_third_township_to_the_target(api):
    planner, admin = user_with_role("planner-mv3", "planner"), user_with_role("admin-mv3", "administrator")
    today = timezone.localdate()
    source, target, village, impact = _three_way_case(today)
    third = [e for e in impact["lines_changed"] if target.code not in e["code"]]
    existing = {line.code: line for line in _lines_of(target)}
    # A marker at each vertex of the source's lines to a third township: after the move each lies on
    # the line nearer to it (the source's, or the target's that took the stretch).
    markers = []
    for entry in third:
        line = BoundaryLine.objects.get(code=entry["code"])
        for i, (lon, lat) in enumerate(c for part in line.geom for c in part.coords):
            marker = Marker.objects.create(
                number=f"MV{line.pk}-{i}", line=line, sequence=900 + i, marker_type="single", geom=Point(lon, lat)
            )
            markers.append(marker.pk)
    pk = _draft(client_for(planner), source, [village.code], target.code)
    assert client_for(planner).post(f"{URL}/{pk}/submit").status_code == 200
    admin_client = client_for(admin)
    assert admin_client.post(f"{URL}/{pk}/approve", {}, format="json").status_code == 200
    response = admin_client.post(f"{URL}/{pk}/apply", {"effective_date": str(today)}, format="json")
    assert response.status_code == 200, response.content
    for entry in impact["lines_to_target"]:  # wholly along the area moved: retired, carried to the target's
        old = BoundaryLine.objects.get(code=entry["code"])
        successor = _pair(target, _other(old.code, source))
        assert (old.valid_to, old.replaced_by) == (today, successor)
        assert BoundaryLine.objects.get(code=successor).valid_to is None
    for entry in third:  # in part: the source's line goes on shorter, the target's takes the stretch
        line = BoundaryLine.objects.get(code=entry["code"])
        assert line.valid_to is None
        assert line.length_m == pytest.approx(entry["length_m"] - entry["along_moved_m"], abs=2.0)
        stretch = BoundaryLine.objects.get(code=_pair(target, _other(line.code, source)))
        assert stretch.valid_to is None
        if stretch.code not in existing:  # a new line, in force from the day, inspected with the source's
            assert stretch.valid_from == today
            assert stretch.length_m == pytest.approx(entry["along_moved_m"], abs=2.0)
            assert stretch.last_inspected == line.last_inspected
        else:  # it was there: it keeps its start, and is last inspected when its older stretch was
            assert stretch.valid_from == existing[stretch.code].valid_from
            dates = [existing[stretch.code].last_inspected, entry["last_inspected"]]
            assert stretch.last_inspected == (None if None in dates else min(dates))
    moved_markers = Marker.objects.filter(pk__in=markers).select_related("line")
    assert moved_markers.count() == len(markers)
    assert any(target.code in marker.line.code for marker in moved_markers)  # some went with the stretch
    around = [BoundaryLine.objects.get(code=e["code"]) for e in third]
    around += [BoundaryLine.objects.get(code=_pair(target, _other(e["code"], source))) for e in third]
    for marker in moved_markers:
        nearest = min(around, key=lambda line: line.geom.distance(marker.geom))
        assert marker.line.geom.distance(marker.geom) == pytest.approx(nearest.geom.distance(marker.geom), abs=1e-9)


def test_the_source_itself_as_target_is_refused(planner_client):
    source, _target, village = _move_case()
    _refused(planner_client, source, [village.code], source.code, "another township than the source")
