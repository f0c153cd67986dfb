"""Applying an approved division change proposal, inside the caller's transaction (the workflow is
``boundaries.proposal_services``): the current record changes, and the history keeps what was.

A merger of townships of one district:
- a new township Division: the union of the old polygons (EPSG:4326; area geodesic, m²), the sums of
  their population, its villages moved to it; its code as proposed, or a provisional one (the first
  free ``<district>9NN``, said so in ``source`` and the proposal's result);
- the old units' versions end on the effective day (valid_to, exclusive) and the new unit's version
  begins then; DivisionChange ``merged_into`` rows (not inferred, the proposal as evidence), and
  ``reparented`` rows for the villages, whose versions end and begin likewise;
- DivisionArea: the spans of the old polygons go to the new polygon with their part (``geom``), so
  that a dated query before the day answers the old unit whose part covers the point; the new unit
  answers for all of it from the day;
- the township lines of the new unit are derived again: the line between merged units is retired,
  the lines to each neighbour join into one, which takes their inspections, markers, problems and
  teams (last inspected: the oldest of the parts', as the whole line is only inspected then; status:
  the worst). The replaced lines end on the day (``valid_to``, ``replaced_by`` the new line) after
  their history moved, and the new lines begin then (``valid_from``), so a dated query of the lines
  answers those of its day; each replaced line is recorded in the proposal's result (code, name,
  length, last inspection, status, inspections). The line between merged units ends with no
  successor and keeps its inspections and markers; the result has it whole (geometry, inspections,
  markers). Survey uploads follow ``boundary_lines_replaced``;
- the old Division rows are deleted after ``divisions_replaced`` told the apps above (place names,
  facilities) to move what referred to them.

A split of a township along a drawn line (the parts as ``boundaries.proposals.split_parts`` cuts them,
the same the impact reported):
- the part with the unit's seat (its representative point) keeps the Division row and its code; its
  version ends on the day and goes on from it; the part cut off is a new township Division (its code
  as proposed or provisional, like a merger's), its version beginning on the day, linked by a
  ``split_from`` change to the version that ended; figures (area geodesic, population and aged 60+
  as the sums of their villages') for each;
- the villages whose point the cut-off part contains (a point on the line stays) move to the new
  unit (``reparented`` changes);
- DivisionArea: before the day, the old unit answers for both polygons; from it, each for its own;
- the neighbours of the same district get the vertices the cut put on their edges (shapes
  unchanged), the township lines around both units are derived again: a line to a neighbour that
  now borders only the new unit goes to it with its history (as in a merger), a line that goes on
  shorter gives the part along the new unit to a new line (with the markers and problems nearer
  it, and its last inspection date), and the line between the two parts is new;
- ``division_split`` tells the apps above (place names, facilities, naming applications) to move
  what lies in the part cut off.

A move of villages to a neighbouring township of the same district (the area they take as
``boundaries.proposals.move_villages_parts`` draws it, the same the impact reported):
- the source keeps its row, code and seat with what remains, the target (an existing township) gets
  the area moved added (its edge snapped to it); both figures are their villages' sums; the
  neighbours of the same district get the new vertices on their edges (shapes unchanged);
- both units' versions end on the day and go on from it; each village moved is ``reparented``;
- DivisionArea: before the day, the source answers for the area moved and the target for its old
  polygon; from it, each for its new polygon;
- the township lines around both are derived again, their history carried as in a split (a line of
  the source to a neighbour that now borders only the target goes to the target's line);
- ``division_split`` (with the target as ``new_division``) tells the apps above to move what lies
  in the area moved.

A rename or a kind change (乡→镇, 镇→街道) keeps the Division (its polygon and lines), changes its name,
kind and, if proposed, its code; its version ends and a new one begins; the lines are renamed (or,
with a new code, derived again under the new codes with their history carried)."""

import datetime
import json
from collections.abc import Iterator

from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Q, QuerySet
from django.utils import timezone

from boundaries.history_models import DivisionArea, DivisionChange, DivisionVersion
from boundaries.lines import SAME_POINT_DEG, township_lines_derive_around, township_trijunctions_rebuild
from boundaries.models import BoundaryLine, BoundaryProblem, Division, Marker
from boundaries.proposal_models import DivisionProposal
from boundaries.proposals import move_villages_parts, split_parts
from boundaries.services import division_pieces_rebuild
from boundaries.signals import boundary_lines_replaced, division_renamed, division_split, divisions_replaced
from gis_portal.core import sql
from gis_portal.core.errors import Conflict

STATUS_RANK = {BoundaryLine.Status.CLEAR: 0, BoundaryLine.Status.PROBLEM: 1, BoundaryLine.Status.DISPUTED: 2}
CHANGE_TYPE = {
    DivisionProposal.Kind.RENAME: DivisionChange.Type.RENAMED,
    DivisionProposal.Kind.TOWNSHIP_TO_TOWN: DivisionChange.Type.TOWNSHIP_TO_TOWN,
    DivisionProposal.Kind.TOWN_TO_STREET: DivisionChange.Type.TOWN_TO_STREET,
}

MERGED_SQL = sql.compose(
    """
SELECT ST_Multi(ST_Union(geom)) AS geom, ST_PointOnSurface(ST_Union(geom)) AS point,
       ST_Area(ST_Union(geom)::geography) AS area_m2, bool_or(is_synthetic) AS is_synthetic,
       min(source_datum) AS source_datum,
       (SELECT sum(v.population) FROM {division} v WHERE v.parent_id = ANY(%(ids)s)) AS population,
       (SELECT sum(v.elderly_population) FROM {division} v WHERE v.parent_id = ANY(%(ids)s)) AS elderly
  FROM {division} WHERE id = ANY(%(ids)s)
""",
    division=Division,
)


def _evidence(proposal: DivisionProposal, approver) -> str:
    who = approver.get_username() if approver is not None else "?"
    return f"division proposal #{proposal.pk} ({proposal.get_kind_display()}), approved by {who}"


def _change(*, proposal, approver, type: str, level: str, before, after) -> DivisionChange:
    day = proposal.effective_date
    return DivisionChange(
        type=type,
        level=level,
        before=before,
        after=after,
        district_code=proposal.district_code,
        changed_after=day - datetime.timedelta(days=1),
        changed_by=day,
        effective_date=day,
        inferred=False,
        evidence=_evidence(proposal, approver),
        review=DivisionChange.Review.CONFIRMED,
        reviewed_by=approver,
        reviewed_at=timezone.now(),
        derived_key=f"proposal:{proposal.pk}"[:48],
    )


def _version_end(version: DivisionVersion, *, day: datetime.date) -> None:
    """End ``version`` on ``day`` (exclusive, an exact day): it is no longer the current unit's."""
    version.valid_to, version.valid_to_after, version.division = day, None, None
    version.save(update_fields=["valid_to", "valid_to_after", "division"])


def _version_successor(version: DivisionVersion, *, day: datetime.date, source: str, **changes) -> DivisionVersion:
    """End ``version`` on ``day`` and return its successor from ``day`` (saved), with ``changes``."""
    division = version.division
    _version_end(version, day=day)
    fields = {
        "code": version.code,
        "name": version.name,
        "standard_name": version.standard_name,
        "level": version.level,
        "kind": version.kind,
        "parent_code": version.parent_code,
        "district_code": version.district_code,
        "cluster_id": version.cluster_id,
        "division": division,
        "geometry_from": version.geometry_from,
        "is_synthetic": version.is_synthetic,
        "source": source,
    }
    fields.update(changes)
    return DivisionVersion.objects.create(valid_from=day, **fields)


def _new_township(proposal: DivisionProposal, *, district: Division, **fields) -> Division:
    """The township a merger or a split makes, under ``district``: the proposal's name, kind and code
    (or the first free provisional one, said so in ``source``); ``fields``: its shape and figures."""
    provisional = not proposal.new_code
    source = f"division proposal #{proposal.pk}" + (" (provisional code)" if provisional else "")
    return Division.objects.create(
        code=proposal.new_code or township_code_provisional(district),
        name=proposal.impact["new_unit"]["name"] if proposal.impact else proposal.new_name,
        level=Division.Level.TOWNSHIP,
        kind=proposal.new_kind,
        parent=district,
        source=source,
        **fields,
    )


def _new_township_version(new: Division, *, cluster_id: str, day: datetime.date, source: str) -> DivisionVersion:
    """The first version of a township a proposal made (a merger's or a split's), from ``day``."""
    return DivisionVersion.objects.create(
        code=new.code,
        name=new.name,
        standard_name=new.name,
        level=Division.Level.TOWNSHIP,
        kind=new.kind,
        parent_code=new.parent.code,
        district_code=new.parent.code,
        cluster_id=cluster_id,
        valid_from=day,
        division=new,
        geometry_from=new,
        is_synthetic=new.is_synthetic,
        source=source,
    )


def _current_version(division: Division) -> DivisionVersion:
    version = DivisionVersion.objects.filter(code=division.code, valid_to__isnull=True).first()
    if version is None:
        raise Conflict(f"{division.code} has no current version in the division history (import the lists first)")
    return version


def _villages_reparent(*, proposal, approver, villages: QuerySet[Division], new_parent: Division, source: str) -> int:
    """Move ``villages`` under ``new_parent``: their Division rows, and for each a version ending and
    one beginning on the effective day, linked by a ``reparented`` change."""
    villages = list(villages.filter(level=Division.Level.VILLAGE))
    day = proposal.effective_date
    versions = {
        v.code: v for v in DivisionVersion.objects.filter(code__in=[d.code for d in villages], valid_to__isnull=True)
    }
    changes = []
    for village in villages:
        version = versions.get(village.code)
        if version is None:
            continue
        after = _version_successor(version, day=day, source=source, parent_code=new_parent.code)
        changes.append(
            _change(
                proposal=proposal,
                approver=approver,
                type=DivisionChange.Type.REPARENTED,
                level=Division.Level.VILLAGE,
                before=version,
                after=after,
            )
        )
    DivisionChange.objects.bulk_create(changes)
    Division.objects.filter(id__in=[d.id for d in villages]).update(parent=new_parent)
    return len(villages)


def township_code_provisional(district: Division) -> str:
    """The code a new township of ``district`` gets when the proposal gives none: the first free
    ``<district>9NN`` from 999 down (never used by a current or former unit)."""
    used = set(DivisionVersion.objects.filter(code__startswith=district.code).values_list("code", flat=True))
    used |= set(Division.objects.filter(code__startswith=district.code).values_list("code", flat=True))
    for number in range(999, 899, -1):
        code = f"{district.code}{number}"
        if code not in used:
            return code
    raise Conflict(f"no provisional township code left under {district.code}")


def _line_record(line: BoundaryLine) -> dict:
    return {
        "code": line.code,
        "name": line.name,
        "length_m": round(line.length_m, 1),
        "last_inspected": line.last_inspected,
        "status": line.status,
        "inspections": line.inspections.count(),
        "markers": line.markers.count(),
    }


def _retired_line_record(line: BoundaryLine) -> dict:
    """A retired line as the proposal's result keeps it: with its inspections and markers in full
    (they stay with the line's dated row, which no successor takes over)."""
    return {
        **_line_record(line),
        "geometry": json.loads(line.geom.geojson),
        "inspection_records": [
            {
                "date": inspection.date,
                "result": inspection.result,
                "team": inspection.team.name if inspection.team else None,
                "findings": inspection.findings,
                "is_synthetic": inspection.is_synthetic,
            }
            for inspection in line.inspections.select_related("team").order_by("date", "id")
        ],
        "marker_records": [
            {"number": m.number, "sequence": m.sequence, "status": m.status, "lon": m.geom.x, "lat": m.geom.y}
            for m in line.markers.order_by("sequence")
        ],
    }


def _line_retire(line: BoundaryLine, *, day: datetime.date, replaced_by: str = "") -> None:
    """End a line on ``day``, kept as history: its sides stay named but no longer linked (the units
    it divided are gone or changed)."""
    line.valid_to, line.replaced_by = day, replaced_by
    line.left_division, line.right_division = None, None
    line.save(update_fields=["valid_to", "replaced_by", "left_division", "right_division"])


def _lines_carry(
    *, old_lines: list[BoundaryLine], replaced_ids: set[int], new: Division, derived: set[str], day: datetime.date
) -> dict:
    """After the lines around ``new`` were derived (``derived``: their codes), give each new line the
    history of the old lines it replaces (the old lines of a replaced unit with the same neighbour)
    and retire those, replaced; the old lines between two replaced units are retired outright.
    The lines drawn now are in force from ``day``."""
    BoundaryLine.objects.filter(code__in=derived - {old.code for old in old_lines}).update(valid_from=day)
    new_lines = {}
    for line in BoundaryLine.objects.filter(code__in=derived).filter(Q(left_division=new) | Q(right_division=new)):
        neighbour = line.right_division_id if line.left_division_id == new.id else line.left_division_id
        new_lines[neighbour] = line
    retired, joined, targets = [], {}, {}
    for old in old_lines:
        if old.code in derived:  # the same line under the same code: kept as it is
            continue
        sides = {old.left_division_id, old.right_division_id}
        neighbour = next(iter(sides - replaced_ids), None)
        targets[old] = new_lines.get(neighbour) if neighbour is not None else None
    # Records of other apps that refer to the old lines move first (or refuse the change).
    boundary_lines_replaced.send(
        sender=BoundaryLine, replaced={old.id: target and target.id for old, target in targets.items()}
    )
    for old, target in targets.items():
        if target is None:
            retired.append(_retired_line_record(old))
            _line_retire(old, day=day)
            continue
        record = _line_record(old)
        joined.setdefault(target.code, {"code": target.code, "name": target.name, "replaces": []})["replaces"].append(
            record
        )
        old.inspections.update(line=target)
        old.markers.update(line=target)
        old.problems.update(line=target)
        target.teams.add(*old.teams.all())
        _line_retire(old, day=day, replaced_by=target.code)
    for code, entry in joined.items():
        target = BoundaryLine.objects.get(code=code)
        dates = [part["last_inspected"] for part in entry["replaces"]]
        target.last_inspected = None if any(d is None for d in dates) else min(dates)
        target.status = max((part["status"] for part in entry["replaces"]), key=STATUS_RANK.get)
        target.save(update_fields=["last_inspected", "status"])
        entry.update(last_inspected=target.last_inspected, status=target.status, length_m=round(target.length_m, 1))
    return {"lines_retired": retired, "lines_joined": [joined[code] for code in sorted(joined)]}


def _lines_around(division_ids: set[int]) -> list[BoundaryLine]:
    return list(
        BoundaryLine.objects.filter(level=BoundaryLine.Level.TOWNSHIP).filter(
            Q(left_division_id__in=division_ids) | Q(right_division_id__in=division_ids)
        )
    )


def _merge_apply(proposal: DivisionProposal, approver) -> dict:
    old = list(Division.objects.filter(code__in=proposal.units, level=Division.Level.TOWNSHIP).order_by("code"))
    old_ids = [d.id for d in old]
    district = old[0].parent
    day, source = proposal.effective_date, f"division proposal #{proposal.pk}"
    figures = sql.row(MERGED_SQL, {"ids": old_ids})
    new = _new_township(
        proposal,
        district=district,
        cluster_id=district.cluster_id,
        geom=figures["geom"],
        point=figures["point"],
        area_m2=figures["area_m2"],
        population=figures["population"],
        elderly_population=figures["elderly"],
        is_synthetic=figures["is_synthetic"],
        source_datum=figures["source_datum"] or "",
    )
    code, name, provisional = new.code, new.name, not proposal.new_code
    division_pieces_rebuild(division_ids=[new.id])
    # The versions: the old units end, the new one begins, linked by merged_into changes.
    old_versions = [_current_version(d) for d in old]
    first = old_versions[0]
    new_version = _new_township_version(new, cluster_id=first.cluster_id, day=day, source=source)
    for version in old_versions:
        _version_end(version, day=day)
    DivisionChange.objects.bulk_create(
        _change(
            proposal=proposal,
            approver=approver,
            type=DivisionChange.Type.MERGED_INTO,
            level=Division.Level.TOWNSHIP,
            before=version,
            after=new_version,
        )
        for version in old_versions
    )
    # The areas: each old polygon's spans go to the new polygon with their part; the new unit from the day.
    for division in old:
        DivisionArea.objects.filter(division=division).update(division=new, geom=division.geom)
    DivisionArea.objects.filter(division=new, valid_to__isnull=True).update(valid_to=day)
    DivisionArea.objects.create(division=new, version=new_version, valid_from=day)
    villages = _villages_reparent(
        proposal=proposal,
        approver=approver,
        villages=Division.objects.filter(parent_id__in=old_ids),
        new_parent=new,
        source=source,
    )
    # The lines: derive those of the new unit, carry the old ones' history, retire the inner ones.
    old_lines = _lines_around(set(old_ids))
    # Until the old units go, their polygons overlap the new one: derive around the new unit only
    # against units that stay.
    Division.objects.filter(id__in=old_ids).update(geom=None)
    derived = township_lines_derive_around(division_ids=[new.id])
    lines = _lines_carry(old_lines=old_lines, replaced_ids=set(old_ids), new=new, derived=derived, day=day)
    divisions_replaced.send(sender=Division, replaced={i: new.id for i in old_ids}, on=day, source=source)
    Division.objects.filter(id__in=old_ids).delete()
    return {
        "new_unit": {"code": code, "name": name, "kind": proposal.new_kind, "provisional_code": provisional},
        "replaced": [{"code": d.code, "name": d.name} for d in old],
        "villages_moved": villages,
        "area_m2": round(figures["area_m2"], 1),
        "population": figures["population"],
        **lines,
    }


def _unit_change_apply(proposal: DivisionProposal, approver) -> dict:
    division = Division.objects.get(code=proposal.units[0], level=Division.Level.TOWNSHIP)
    day, source = proposal.effective_date, f"division proposal #{proposal.pk}"
    name = proposal.impact["new_unit"]["name"] if proposal.impact else proposal.new_name
    kind = proposal.new_kind or division.kind
    code = proposal.new_code or division.code
    old_name, old_code = division.name, division.code
    version = _current_version(division)
    division.code, division.name, division.kind = code, name, kind
    division.save(update_fields=["code", "name", "kind"])
    after = _version_successor(version, day=day, source=source, code=code, name=name, standard_name=name, kind=kind)
    _change(
        proposal=proposal,
        approver=approver,
        type=CHANGE_TYPE[proposal.kind],
        level=Division.Level.TOWNSHIP,
        before=version,
        after=after,
    ).save()
    DivisionArea.objects.filter(division=division, valid_to__isnull=True).update(valid_to=day)
    DivisionArea.objects.create(division=division, version=after, valid_from=day)
    lines: dict = {"lines_retired": [], "lines_joined": []}
    if code != old_code:
        _villages_reparent(
            proposal=proposal,
            approver=approver,
            villages=Division.objects.filter(parent=division),
            new_parent=division,
            source=source,
        )
        old_lines = _lines_around({division.id})
        derived = township_lines_derive_around(division_ids=[division.id])
        lines = _lines_carry(old_lines=old_lines, replaced_ids={division.id}, new=division, derived=derived, day=day)
    else:
        for line in _lines_around({division.id}):
            side = "left" if line.left_division_id == division.id else "right"
            setattr(line, f"{side}_name", name)
            line.name = f"{line.left_name}—{line.right_name}"
            line.save(update_fields=[f"{side}_name", "name"])
    division_renamed.send(sender=Division, division=division, old_name=old_name, on=day, source=source)
    return {
        "new_unit": {"code": code, "name": name, "kind": kind, "provisional_code": False},
        "replaced": [{"code": old_code, "name": old_name}],
        **lines,
    }


# Markers (``geom``) or problems (``point``) of a line that goes on after a split that lie nearer the
# new unit's line with the same neighbour (the part of the old line that now borders the new unit).
LINE_POINTS_MOVE_SQL = """
UPDATE {table} t SET line_id = %(to)s
  FROM {line} kept, {line} cut
 WHERE kept.id = %(from)s AND cut.id = %(to)s AND t.line_id = kept.id
   AND ST_Distance(t.{point}, cut.geom) < ST_Distance(t.{point}, kept.geom)
"""

# Before the day, the unit that gives up a part (``from``) answered for it: its spans that ended by
# then are copied to the unit that takes the part (``to``), for that part only (``part``): a span
# of the giver's whole polygon answers, for the taker, for ``whole`` (NULL: the taker's whole
# polygon, which is the part, after a split; the part itself after a move, the taker being larger);
# a span for a part of the giver keeps its share of the part, if any. As ``division_areas_rebuild``
# derives from the split_from change.
AREAS_HANDED_OVER_SQL = sql.compose(
    """
INSERT INTO {area} (division_id, version_id, valid_from, valid_to, geom)
SELECT %(to)s, a.version_id, a.valid_from, a.valid_to, share.geom
  FROM {area} a
  CROSS JOIN LATERAL (
        SELECT CASE WHEN a.geom IS NULL THEN %(whole)s::geometry
                    ELSE ST_Multi(ST_CollectionExtract(ST_Intersection(a.geom, %(part)s::geometry), 3)) END AS geom
  ) share
 WHERE a.division_id = %(from)s AND a.valid_to <= %(day)s
   AND (share.geom IS NULL OR NOT ST_IsEmpty(share.geom))
""",
    area=DivisionArea,
)


# ST_Split puts a vertex where the line crosses the unit's edge; the neighbour across that edge does
# not have it, and the township lines are derived from shared vertices. The neighbours of the same
# district get the new parts' vertices that lie on their edges (within ``tol``, about a centimetre:
# their shapes do not change).
SPLIT_NEIGHBOURS_SNAP_SQL = sql.compose(
    """
WITH parts AS (SELECT ST_Collect(k.geom, c.geom) AS geom, k.parent_id
                 FROM {division} k, {division} c WHERE k.id = %(kept)s AND c.id = %(new)s)
UPDATE {division} n SET geom = ST_Multi(ST_Snap(n.geom, parts.geom, %(tol)s))
  FROM parts
 WHERE n.level = 'township' AND n.parent_id = parts.parent_id AND n.id <> ALL(%(ids)s)
   AND n.geom && parts.geom AND ST_Intersects(n.geom, parts.geom)
RETURNING n.id
""",
    division=Division,
)


def _lines_going_on(
    *, kept: Division, other: Division, derived: set[str]
) -> Iterator[tuple[BoundaryLine, BoundaryLine]]:
    """After a split or a move, each line of ``kept`` to a neighbour that goes on (derived again under
    its code, shorter) with ``other``'s line to that neighbour, which now runs where part of it ran."""
    lines = list(BoundaryLine.objects.filter(code__in=derived))
    by_pair = {frozenset((line.left_division_id, line.right_division_id)): line for line in lines}
    for line in lines:
        sides = {line.left_division_id, line.right_division_id}
        if kept.id not in sides or other.id in sides:
            continue
        neighbour = next(iter(sides - {kept.id}))
        counterpart = by_pair.get(frozenset((other.id, neighbour)))
        if counterpart is not None:
            yield line, counterpart


def _line_points_move(*, line: BoundaryLine, to: BoundaryLine) -> None:
    """The markers and problems of ``line`` that lie nearer ``to`` move to it."""
    for table, point in ((Marker, "geom"), (BoundaryProblem, "point")):
        query = sql.compose(LINE_POINTS_MOVE_SQL, table=table, line=BoundaryLine, point=sql.SQL(point))
        sql.execute(query, {"from": line.id, "to": to.id})


def _lines_cut(*, kept: Division, new: Division, derived: set[str]) -> list[dict]:
    """After a split, each line of the kept unit that goes on (the same code, shorter) and whose
    neighbour now also borders the new unit: the markers and problems nearer the new line move to
    it, and the new line takes the old one's last inspection (that ground was inspected then; the
    inspection records stay with the line that goes on). Returns the new lines so made."""
    cut_lines = []
    for line, target in _lines_going_on(kept=kept, other=new, derived=derived):
        if target.inspections.exists():  # it took a retired line's history
            continue
        _line_points_move(line=line, to=target)
        target.last_inspected = line.last_inspected
        target.save(update_fields=["last_inspected"])
        cut_lines.append({**_line_record(target), "cut_from": line.code})
    return cut_lines


def _split_apply(proposal: DivisionProposal, approver) -> dict:
    kept = Division.objects.select_related("parent").get(code=proposal.units[0], level=Division.Level.TOWNSHIP)
    parts = split_parts(code=kept.code, line_ewkt=proposal.split_line.ewkt)
    district = kept.parent
    day, source = proposal.effective_date, f"division proposal #{proposal.pk}"
    new = _new_township(
        proposal,
        district=district,
        cluster_id=kept.cluster_id,
        geom=parts.cut["geom"],
        point=parts.cut["point"],
        area_m2=parts.cut["area_m2"],
        population=parts.cut["population"],
        elderly_population=parts.cut["elderly_population"],
        is_synthetic=kept.is_synthetic,
        source_datum=kept.source_datum,
    )
    code, name, provisional = new.code, new.name, not proposal.new_code
    # The kept unit: its seat's part; its figures are its remaining villages'.
    Division.objects.filter(pk=kept.pk).update(
        geom=parts.kept["geom"],
        area_m2=parts.kept["area_m2"],
        population=parts.kept["population"],
        elderly_population=parts.kept["elderly_population"],
    )
    kept.refresh_from_db()
    snapped = sql.rows(
        SPLIT_NEIGHBOURS_SNAP_SQL, {"kept": kept.id, "new": new.id, "ids": [kept.id, new.id], "tol": SAME_POINT_DEG}
    )
    division_pieces_rebuild(division_ids=[kept.id, new.id, *(row["id"] for row in snapped)])
    # The versions: the kept unit's ends and goes on under its code; the new unit's begins, split from it.
    version = _current_version(kept)
    kept_version = _version_successor(version, day=day, source=source)
    new_version = _new_township_version(new, cluster_id=version.cluster_id, day=day, source=source)
    _change(
        proposal=proposal,
        approver=approver,
        type=DivisionChange.Type.SPLIT_FROM,
        level=Division.Level.TOWNSHIP,
        before=version,
        after=new_version,
    ).save()
    # The areas: before the day, the old unit answers for both parts (as ``division_areas_rebuild``
    # derives from the split_from change); from the day, each unit for its own.
    DivisionArea.objects.filter(division=kept, valid_to__isnull=True).update(valid_to=day)
    handed = {"from": kept.id, "to": new.id, "part": parts.cut["geom"], "whole": None, "day": day}
    sql.execute(AREAS_HANDED_OVER_SQL, handed)
    DivisionArea.objects.create(division=kept, version=kept_version, valid_from=day)
    DivisionArea.objects.create(division=new, version=new_version, valid_from=day)
    villages = _villages_reparent(
        proposal=proposal,
        approver=approver,
        villages=Division.objects.filter(parent=kept, point__within=GEOSGeometry(parts.cut["geom"])),
        new_parent=new,
        source=source,
    )
    # The lines: derived again around both; the old lines to neighbours that now border only the
    # new unit go to it with their history; lines that go on give their part's markers to the new line.
    old_lines = _lines_around({kept.id})
    derived = township_lines_derive_around(division_ids=[kept.id, new.id])
    lines = _lines_carry(old_lines=old_lines, replaced_ids={kept.id}, new=new, derived=derived, day=day)
    lines_cut = _lines_cut(kept=kept, new=new, derived=derived)
    division_split.send(
        sender=Division, division=kept, new_division=new, cut=GEOSGeometry(parts.cut["geom"]), on=day, source=source
    )
    return {
        "new_unit": {
            "code": code,
            "name": name,
            "kind": proposal.new_kind,
            "provisional_code": provisional,
            "area_m2": round(parts.cut["area_m2"], 1),
            "population": parts.cut["population"],
            "villages": villages,
        },
        "kept_unit": {
            "code": kept.code,
            "name": kept.name,
            "area_m2": round(parts.kept["area_m2"], 1),
            "population": parts.kept["population"],
            "villages": parts.kept["villages"],
        },
        "replaced": [],
        "villages_moved": villages,
        "lines_new": sorted(
            (
                _line_record(line)
                for line in BoundaryLine.objects.filter(code__in=derived).filter(
                    Q(left_division=new) | Q(right_division=new)
                )
            ),
            key=lambda record: record["code"],
        ),
        "lines_cut": lines_cut,
        **lines,
    }


def _lines_stretch_carry(*, source: Division, target: Division, derived: set[str], existed: dict) -> None:
    """After a move, each line of the source to a neighbour that goes on (shorter) while the
    target's line to that neighbour took the stretch along the area moved: the markers and
    problems nearer the target's line move to it, and it is last inspected no later than the
    source's line was (that stretch was inspected with it); ``existed``: the target's lines before
    the move (code → last inspected, status), the others are new and take the source line's date."""
    for line, stretch in _lines_going_on(kept=source, other=target, derived=derived):
        _line_points_move(line=line, to=stretch)
        if stretch.code in existed:
            _line_state_combine(stretch, (line.last_inspected, line.status), also=existed[stretch.code])
        else:
            stretch.last_inspected = line.last_inspected
            stretch.save(update_fields=["last_inspected"])


def _line_state_combine(line: BoundaryLine, state: tuple, *, also: tuple | None = None) -> None:
    """A line that now also runs where another was: last inspected when its oldest stretch was (none
    if one never was), its status the worst."""
    states = [(line.last_inspected, line.status) if also is None else also, state]
    dates = [date for date, _status in states]
    line.last_inspected = None if None in dates else min(dates)
    line.status = max((status for _date, status in states), key=STATUS_RANK.get)
    line.save(update_fields=["last_inspected", "status"])


def _move_villages_apply(proposal: DivisionProposal, approver) -> dict:
    source = Division.objects.select_related("parent").get(code=proposal.units[0], level=Division.Level.TOWNSHIP)
    parts = move_villages_parts(code=source.code, villages=list(proposal.villages), target_code=proposal.target_code)
    target = Division.objects.get(pk=parts.target["id"])
    day, source_text = proposal.effective_date, f"division proposal #{proposal.pk}"
    old_lines = _lines_around({source.id, target.id})
    existed = {
        line.code: (line.last_inspected, line.status)
        for line in old_lines
        if target.id in (line.left_division_id, line.right_division_id)
    }
    # The areas before the day: the target's spans of all its polygon answer for its old polygon only;
    # the source's spans answer for the area moved too (copied to the target's polygon for that area).
    DivisionArea.objects.filter(division=target, geom__isnull=True).update(geom=target.geom)
    DivisionArea.objects.filter(division__in=[source, target], valid_to__isnull=True).update(valid_to=day)
    moved = parts.moved["geom"]
    handed = {"from": source.id, "to": target.id, "part": moved, "whole": moved, "day": day}
    sql.execute(AREAS_HANDED_OVER_SQL, handed)
    # The polygons and figures (their seats stay: the source's lies in what remains).
    after = parts.after
    Division.objects.filter(pk=source.pk).update(
        geom=parts.kept["geom"],
        area_m2=after["source"]["area_m2"],
        population=after["source"]["population"],
        elderly_population=after["source"]["elderly_population"],
    )
    Division.objects.filter(pk=target.pk).update(
        geom=parts.target_after["geom"],
        area_m2=after["target"]["area_m2"],
        population=after["target"]["population"],
        elderly_population=after["target"]["elderly_population"],
    )
    source.refresh_from_db()
    target.refresh_from_db()
    snapped = sql.rows(
        SPLIT_NEIGHBOURS_SNAP_SQL,
        {"kept": source.id, "new": target.id, "ids": [source.id, target.id], "tol": SAME_POINT_DEG},
    )
    division_pieces_rebuild(division_ids=[source.id, target.id, *(row["id"] for row in snapped)])
    # The versions: both units' end and go on from the day under their codes.
    source_version = _version_successor(_current_version(source), day=day, source=source_text)
    target_version = _version_successor(_current_version(target), day=day, source=source_text)
    DivisionArea.objects.create(division=source, version=source_version, valid_from=day)
    DivisionArea.objects.create(division=target, version=target_version, valid_from=day)
    villages = _villages_reparent(
        proposal=proposal,
        approver=approver,
        villages=Division.objects.filter(parent=source, code__in=proposal.villages),
        new_parent=target,
        source=source_text,
    )
    # The lines: derived again around both; a line of the source to a neighbour that now borders only
    # the target goes to the target's line with its history; lines that go on shorter give the
    # markers of the stretch moved to the target's line.
    derived = township_lines_derive_around(division_ids=[source.id, target.id])
    lines = _lines_carry(old_lines=old_lines, replaced_ids={source.id}, new=target, derived=derived, day=day)
    _lines_stretch_carry(source=source, target=target, derived=derived, existed=existed)
    for entry in lines["lines_joined"]:  # a target's line that took a source's: its own state counts too
        if entry["code"] in existed:
            _line_state_combine(BoundaryLine.objects.get(code=entry["code"]), existed[entry["code"]])
    # What lies in the area moved (place names, facilities, naming applications) goes to the target.
    division_split.send(
        sender=Division,
        division=source,
        new_division=target,
        cut=GEOSGeometry(parts.moved["geom"]),
        on=day,
        source=source_text,
    )

    def unit(division: Division, figures: dict) -> dict:
        return {"code": division.code, "name": division.name, **figures, "area_m2": round(figures["area_m2"], 1)}

    return {
        "new_unit": None,
        "source_unit": unit(source, after["source"]),
        "target_unit": unit(target, after["target"]),
        "replaced": [],
        "villages_moved": villages,
        "moved_area_m2": round(parts.moved["area_m2"], 1),
        **lines,
    }


def proposal_changes_apply(*, proposal: DivisionProposal, approver) -> dict:
    """Change the divisions as the proposal says, from its effective date (inside the caller's
    transaction); return what was done, for the proposal's record."""
    if proposal.kind == DivisionProposal.Kind.MERGE:
        result = _merge_apply(proposal, approver)
    elif proposal.kind == DivisionProposal.Kind.SPLIT:
        result = _split_apply(proposal, approver)
    elif proposal.kind == DivisionProposal.Kind.MOVE_VILLAGES:
        result = _move_villages_apply(proposal, approver)
    else:
        result = _unit_change_apply(proposal, approver)
    result["trijunctions"] = township_trijunctions_rebuild()
    return result
