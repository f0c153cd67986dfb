"""Boundary lines are dated like the divisions: when a merger of 古南街道 and 新盛街道 takes effect, the
line between them and their lines to each neighbour end on the day (kept, with ``valid_to``; the
line between them keeps its inspections, each outer line names the line that took its history) and
the merged unit's lines begin then. Undated and from the day on, every reader (the list, the detail,
the roll-up, the markers, the OGC API) sees the lines in force; ``date=`` before the day answers
the old lines. A split draws the line between its parts, and the new unit's, from its day."""

import datetime

import pytest
from django.db.models import Q
from django.utils import timezone

from boundaries.models import BoundaryLine, Division, Marker, TriJunction
from boundaries.selectors import inspection_summary
from tests.boundaries.test_proposals import GUNAN, URL, XINSHENG, client_for
from tests.boundaries.test_proposals_apply import approved  # noqa: F401 (a fixture)
from tests.boundaries.test_proposals_split_apply import split  # noqa: F401 (a fixture)
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _township_codes(api, cluster: str, **params) -> set[str]:
    """Codes of the township lines of one cluster, from the API (one page holds them all)."""
    response = api.get("/api/v1/boundary-lines", {"level": "township", "cluster": cluster, "page_size": 2000, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None
    return {f["properties"]["code"] for f in body["features"]}


def _district_lines(summary: dict) -> int:
    return next(row["lines"] for row in summary["rows"] if row["code"] == "500110")


def test_a_merger_retires_the_old_lines_and_dated_queries_answer_them_before_its_day(api, approved):  # noqa: F811
    proposal, admin = approved
    today = timezone.localdate()
    cluster = Division.objects.get(code="500110").cluster_id
    inner = BoundaryLine.objects.get(code=f"{GUNAN}-{XINSHENG}")
    inner_inspections = set(inner.inspections.values_list("id", flat=True))
    Marker.objects.create(
        number=f"{inner.code}-001S",
        line=inner,
        sequence=1,
        marker_type="single",
        geom=inner.geom[0].interpolate_normalized(0.5),
    )
    inner_markers = {f"{inner.code}-001S"}
    assert api.get("/api/v1/markers", {"line": inner.code}).json()["features"]
    outer = {
        line.code
        for line in BoundaryLine.objects.filter(level="township")
        .filter(Q(code__contains=GUNAN) | Q(code__contains=XINSHENG))
        .exclude(pk=inner.pk)
    }
    before_apply = _township_codes(api, cluster)
    lines_before = _district_lines(inspection_summary(group_by="district", today=today))
    assert {inner.code} | outer <= before_apply

    response = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(today)}, format="json")
    assert response.status_code == 200, response.content
    new_code = response.json()["result"]["new_unit"]["code"]
    drawn = set(BoundaryLine.objects.filter(code__contains=new_code).values_list("code", flat=True))
    assert drawn

    # The rows: the old lines end on the day, none deleted; the new ones begin on it.
    inner_row = BoundaryLine.dated.get(code=inner.code)
    assert (inner_row.valid_to, inner_row.replaced_by) == (today, "")
    assert (inner_row.left_division_id, inner_row.right_division_id) == (None, None)
    assert {inner_row.left_name, inner_row.right_name} == {"古南街道", "新盛街道"}
    assert set(inner_row.inspections.values_list("id", flat=True)) == inner_inspections
    assert set(Marker.dated.filter(line=inner_row).values_list("number", flat=True)) == inner_markers
    for code in outer:
        row = BoundaryLine.dated.get(code=code)
        assert row.valid_to == today and row.replaced_by in drawn
        assert not row.inspections.exists()  # its history went to the line that replaced it
    assert set(BoundaryLine.objects.filter(code__in=drawn).values_list("valid_from", flat=True)) == {today}

    # The list: undated and on the day, the lines in force; the day before, the old ones.
    undated = _township_codes(api, cluster)
    assert _township_codes(api, cluster, date=str(today)) == undated
    assert drawn <= undated and not ({inner.code} | outer) & undated
    assert undated == (before_apply - {inner.code} - outer) | drawn
    day_before = _township_codes(api, cluster, date=str(today - DAY))
    assert day_before == before_apply
    assert not drawn & day_before

    # Readers of the lines in force: detail, roll-up, markers, OGC API.
    gone = api.get(f"/api/v1/boundary-lines/{inner.code}")
    assert_error(gone, 404, "not_found")
    assert f"retired on {today:%Y-%m-%d}" in gone.json()["error"]["message"]
    replaced = api.get(f"/api/v1/boundary-lines/{sorted(outer)[0]}")
    assert_error(replaced, 404, "not_found")
    assert (
        f"replaced by {BoundaryLine.dated.get(code=sorted(outer)[0]).replaced_by}"
        in replaced.json()["error"]["message"]
    )
    lines_after = _district_lines(inspection_summary(group_by="district", today=today))
    assert lines_after == lines_before - 1 - len(outer) + len(drawn)
    assert api.get("/api/v1/markers", {"line": inner.code}).json()["features"] == []
    assert api.get(f"/ogc/collections/boundary-lines/items/{inner.code}").status_code == 404
    assert api.get(f"/ogc/collections/boundary-lines/items/{sorted(drawn)[0]}").status_code == 200


def test_a_split_draws_the_line_between_the_parts_from_its_day(api, split):  # noqa: F811
    proposal, admin, township, _x = split
    today = timezone.localdate()
    cluster = township.cluster_id
    before_apply = _township_codes(api, cluster)
    response = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(today)}, format="json")
    assert response.status_code == 200, response.content
    new_code = response.json()["result"]["new_unit"]["code"]
    between = BoundaryLine.objects.get(code="-".join(sorted([township.code, new_code])))
    assert between.valid_from == today
    # The new unit's lines begin on the day; the kept unit's old lines to neighbours that now border
    # only the new unit end then, replaced.
    new_lines = set(BoundaryLine.objects.filter(code__contains=new_code).values_list("code", flat=True))
    assert set(BoundaryLine.objects.filter(code__in=new_lines).values_list("valid_from", flat=True)) == {today}
    ended = BoundaryLine.dated.filter(valid_to=today, code__contains=township.code)
    assert all(line.replaced_by in new_lines for line in ended)
    day_before = _township_codes(api, cluster, date=str(today - DAY))
    assert day_before == before_apply
    assert not new_lines & day_before
    undated = _township_codes(api, cluster)
    assert new_lines <= undated
    assert undated == (before_apply - {line.code for line in ended}) | new_lines


def test_an_applied_merger_rebuilds_the_township_trijunctions(approved):  # noqa: F811
    proposal, admin = approved
    today = timezone.localdate()
    township_junctions = TriJunction.objects.filter(level="township")
    old_codes = Q(codes__contains=GUNAN) | Q(codes__contains=XINSHENG)
    assert township_junctions.filter(old_codes).exists()
    response = client_for(admin).post(f"{URL}/{proposal.pk}/apply", {"effective_date": str(today)}, format="json")
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    new = Division.objects.get(code=result["new_unit"]["code"])
    assert result["trijunctions"] == township_junctions.count()
    assert not township_junctions.filter(old_codes).exists()  # none names a unit that is gone
    meeting = township_junctions.filter(codes__contains=new.code)
    assert meeting.exists()
    for junction in meeting:
        assert new in junction.divisions.all()
        # Each point lies on the new unit's edge (within a centimetre).
        assert new.geom.boundary.distance(junction.geom) < 1e-7
