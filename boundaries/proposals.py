"""The impact of a proposed division change (行政区划调整方案), read before anything is decided: for
a merger of townships of one district, area and population sums, the lines retired and joined with
their inspection status, the names that change, and the check against the establishment standards;
for a rename or a kind change, the same of one unit; for a split, the two parts; for a move of
villages to a neighbouring township, both townships before and after. The facilities and
their coverage before and after are added by the facilities (``boundaries.signals``), through
``boundaries.proposal_services.proposal_impact``, which also keeps the stored proposals' workflow."""

import datetime
from dataclasses import dataclass

from django.db.models import Q

from boundaries.history_models import EstablishmentStandard
from boundaries.lines import SAME_POINT_DEG
from boundaries.models import BoundaryLine, Division
from boundaries.selectors import boundary_line_list
from boundaries.standards import establishment_check
from gis_portal.core import sql
from gis_portal.core.errors import InvalidParameter

# The establishment standards a unit of each kind is checked against (a township has none).
STANDARD_UNIT = {Division.Kind.TOWN: "town", Division.Kind.STREET: "street"}

# --- The impact of a proposed merger of townships (行政区划调整方案: 合并) --------------------------

MERGER_SQL = sql.compose(
    """
WITH units AS (
    SELECT d.id, d.code, d.name, d.geom, d.area_m2, d.is_synthetic,
           (SELECT coalesce(sum(v.population), 0) FROM {division} v WHERE v.parent_id = d.id) AS population,
           (SELECT coalesce(sum(v.elderly_population), 0) FROM {division} v WHERE v.parent_id = d.id) AS elderly,
           (SELECT count(*) FROM {division} v WHERE v.parent_id = d.id) AS villages
      FROM {division} d WHERE d.id = ANY(%(ids)s)
)
SELECT (SELECT json_agg(json_build_object('code', code, 'name', name, 'area_m2', area_m2, 'population', population,
                                          'elderly_population', elderly, 'villages', villages) ORDER BY code)
          FROM units) AS units,
       (SELECT sum(area_m2) FROM units) AS area_m2,
       (SELECT ST_Area(ST_Union(geom)::geography) FROM units) AS union_area_m2,
       (SELECT ST_NumGeometries(ST_Multi(ST_Union(geom))) FROM units) AS parts,
       (SELECT sum(population) FROM units) AS population,
       (SELECT sum(elderly) FROM units) AS elderly_population,
       (SELECT sum(villages) FROM units) AS villages,
       (SELECT bool_or(is_synthetic) FROM units) AS is_synthetic
""",
    division=Division,
)


def _line_entry(line: BoundaryLine) -> dict:
    """A township line as an impact lists it (``line`` from ``boundary_line_list``: with ``overdue``)."""
    return {
        "code": line.code,
        "name": line.name,
        "length_m": round(line.length_m, 1),
        "last_inspected": line.last_inspected,
        "overdue": line.overdue,
        "status": line.status,
    }


def merger_impact(
    *, codes: list[str], today: datetime.date, unit: str | None = None, stated: dict | None = None
) -> dict:
    """What merging these townships of one district would do, before anything is decided: the
    units and their sums (area in m², geodesic; population and aged 60+ as the sums of their
    villages'), the township lines retired (between two of them) and joined (the lines to each
    outside neighbour become one, lengths in metres), with their inspection dates, and the place
    names that would change. InvalidParameter names why a merger is refused: fewer than two
    townships, unknown codes, across districts (that needs a district-level change), or units that
    do not touch (the merged unit would be in pieces). With ``unit`` (town or street), the check
    against that unit's establishment standards, with the figures the service does not hold listed
    as missing (to be stated in the proposal) unless ``stated`` gives them."""
    codes = sorted(set(codes))
    if len(codes) < 2:
        raise InvalidParameter("codes: a merger needs at least two townships")
    units = list(
        Division.objects.filter(code__in=codes, level=Division.Level.TOWNSHIP).values("id", "code", "parent_id")
    )
    unknown = sorted(set(codes) - {u["code"] for u in units})
    if unknown:
        raise InvalidParameter(f"codes: no current township {', '.join(unknown)}")
    if len({u["parent_id"] for u in units}) > 1:
        raise InvalidParameter(
            "codes: the townships lie in different districts; a merger across districts needs a district-level change"
        )
    figures = sql.row(MERGER_SQL, {"ids": [u["id"] for u in units]})
    if figures["parts"] != 1:
        raise InvalidParameter(
            f"codes: the townships do not form one area (the merged unit would have {figures['parts']} parts)"
        )
    ids = [u["id"] for u in units]
    lines = (
        boundary_line_list(today=today)
        .filter(level=BoundaryLine.Level.TOWNSHIP)
        .filter(Q(left_division_id__in=ids) | Q(right_division_id__in=ids))
    )
    retired, joined = [], {}
    for line in lines.order_by("code"):
        inside = {line.left_division_id, line.right_division_id} <= set(ids)
        entry = _line_entry(line)
        if inside:
            retired.append(entry)
            continue
        outside = line.right_code if line.left_division_id in ids else line.left_code
        outside_name = line.right_name if line.left_division_id in ids else line.left_name
        group = joined.setdefault(outside, {"neighbour_code": outside, "neighbour_name": outside_name, "lines": []})
        group["lines"].append(entry)
    for group in joined.values():
        group["length_m"] = round(sum(item["length_m"] for item in group["lines"]), 1)
    return {
        **_unit_figures(figures, unit=unit, stated=stated),
        "lines_retired": retired,
        "lines_joined": [joined[key] for key in sorted(joined)],
        "names_that_change": [{"code": u["code"], "name": u["name"]} for u in figures["units"]],
    }


def _unit_figures(figures: dict, *, unit: str | None, stated: dict | None) -> dict:
    """The units and their sums as MERGER_SQL gives them, with the check against the standards."""
    population = int(figures["population"])
    return {
        "standards": _standards(unit=unit, population=population, stated=stated),
        "units": figures["units"],
        "area_m2": round(figures["area_m2"], 1),
        "union_area_m2": round(figures["union_area_m2"], 1),
        "population": population,
        "elderly_population": int(figures["elderly_population"]),
        "villages": int(figures["villages"]),
        "is_synthetic": figures["is_synthetic"],
    }


def _standards(*, unit: str | None, population: int, stated: dict | None) -> dict | None:
    """The check against the standards of ``unit`` (town or street; None: no check): the figures the
    service holds (the population) and those the proposer stated for the ones it does not."""
    if unit is None:
        return None
    criteria = EstablishmentStandard.objects.filter(unit=unit).values(
        "group", "figure", "figure_label", "comparison", "threshold", "source"
    )
    return establishment_check(criteria=list(criteria), figures={**(stated or {}), "total_population": population})


# --- The impact of renaming a township or changing its kind (乡→镇, 镇→街道) -------------------------


def unit_change_impact(*, code: str, today: datetime.date, unit: str | None = None, stated: dict | None = None) -> dict:
    """What renaming one township or changing its kind would do: its figures (as in a merger, one
    unit), the township lines whose names change with their inspection status, the name that
    changes, and the check against the standards of ``unit`` (town or street)."""
    township = Division.objects.filter(code=code, level=Division.Level.TOWNSHIP).values("id", "code").first()
    if township is None:
        raise InvalidParameter(f"units: no current township {code}")
    figures = sql.row(MERGER_SQL, {"ids": [township["id"]]})
    lines = (
        boundary_line_list(today=today)
        .filter(level=BoundaryLine.Level.TOWNSHIP)
        .filter(Q(left_division_id=township["id"]) | Q(right_division_id=township["id"]))
        .order_by("code")
    )
    return {
        **_unit_figures(figures, unit=unit, stated=stated),
        "lines_retired": [],
        "lines_joined": [],
        "lines_renamed": [_line_entry(line) for line in lines],
        "names_that_change": [{"code": u["code"], "name": u["name"]} for u in figures["units"]],
    }


# --- The impact of splitting a township along a drawn line -----------------------------------------

# The parts the line cuts the township into (EPSG:4326), with their geodesic areas (m²), a point
# inside each, whether the township's seat (its representative point) lies in it, and how many
# pieces (polygons) the township has.
SPLIT_PARTS_SQL = sql.compose(
    """
WITH u AS (SELECT id, geom, point FROM {division} WHERE id = %(id)s),
parts AS (
    SELECT row_number() OVER () AS n, p.geom
      FROM u, ST_Dump(ST_Split(u.geom, ST_GeomFromEWKT(%(line)s))) p
)
SELECT parts.n, ST_Multi(parts.geom) AS geom, ST_Area(parts.geom::geography) AS area_m2,
       ST_PointOnSurface(parts.geom) AS point, COALESCE(ST_Covers(parts.geom, u.point), false) AS has_seat,
       ST_NumGeometries(u.geom) AS pieces
  FROM parts, u ORDER BY parts.n
""",
    division=Division,
)

# The township's villages/communities on each side: cut off when the cut-off part contains their
# point (ST_Contains: a point on the line stays with the unit), the rest stay.
SPLIT_VILLAGES_SQL = sql.compose(
    """
SELECT COALESCE(ST_Contains(%(cut)s::geometry, v.point), false) AS cut_off, count(*) AS villages,
       COALESCE(sum(v.population), 0) AS population, COALESCE(sum(v.elderly_population), 0) AS elderly_population
  FROM {division} v WHERE v.parent_id = %(id)s AND v.level = 'village'
 GROUP BY 1
""",
    division=Division,
)


# Each township line of the unit, with its length along the part cut off (geodesic metres): the
# line is snapped to that part first (about a centimetre), to have the vertex the cut puts on it.
SPLIT_LINES_SQL = sql.compose(
    """
SELECT l.id,
       ST_Length(ST_CollectionExtract(ST_Intersection(ST_Snap(l.geom, %(cut)s::geometry, %(tol)s),
                                                      ST_Boundary(%(cut)s::geometry)), 2)::geography) AS to_new_m
  FROM {line} l
 WHERE l.level = 'township' AND (l.left_division_id = %(id)s OR l.right_division_id = %(id)s)
""",
    line=BoundaryLine,
)
# The new line between the two parts (their shared edge), in geodesic metres.
SPLIT_BETWEEN_SQL = sql.SQL(
    "SELECT ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(%(kept)s::geometry),"
    " ST_Boundary(%(cut)s::geometry)), 2)::geography) AS length_m"
)
# Within a metre of all or none of its length, a line goes wholly to the new unit or stays.
SPLIT_LINE_TOLERANCE_M = 1.0


@dataclass(frozen=True)
class SplitParts:
    """A township cut in two: ``kept`` the part with its seat (it stays the township), ``cut`` the
    part cut off (the new unit). Each part: ``geom`` (MultiPolygon, EPSG:4326, hex EWKB),
    ``area_m2`` (geodesic), ``point`` (a point inside it), ``villages``, ``population``,
    ``elderly_population`` (of the villages whose point lies in it)."""

    township: dict
    kept: dict
    cut: dict


def split_parts(*, code: str, line_ewkt: str) -> SplitParts:
    """Cut the current township ``code`` along a line (EWKT, EPSG:4326): the impact and the
    application of a split both read the parts from here. InvalidParameter when there is no such
    township, when it is in more than one piece (polygon), when the line does not cut it in exactly
    two parts, when it runs through the seat
    (neither part alone keeps the township), or when one part would hold no village."""
    township = Division.objects.filter(code=code, level=Division.Level.TOWNSHIP).values("id", "code", "name").first()
    if township is None:
        raise InvalidParameter(f"units: no current township {code}")
    parts = sql.rows(SPLIT_PARTS_SQL, {"id": township["id"], "line": line_ewkt})
    # A unit of two pieces and a line that misses both would give two parts, cut nowhere.
    if parts and parts[0]["pieces"] != 1:
        raise InvalidParameter(
            f"split_line: {township['name']} is in {parts[0]['pieces']} pieces; only a unit of one piece is split"
        )
    if len(parts) != 2:
        raise InvalidParameter(
            f"split_line: the line does not cut {township['name']} in two "
            f"(it gives {len(parts)} part{'s' if len(parts) != 1 else ''}; draw it from edge to edge, once across)"
        )
    if sum(part["has_seat"] for part in parts) != 1:
        raise InvalidParameter(f"split_line: the line runs through the seat of {township['name']}; draw it past it")
    kept, cut = sorted(parts, key=lambda part: not part["has_seat"])
    sides = {row["cut_off"]: row for row in sql.rows(SPLIT_VILLAGES_SQL, {"id": township["id"], "cut": cut["geom"]})}
    for part, cut_off in ((kept, False), (cut, True)):
        side = sides.get(cut_off, {})
        part["villages"] = int(side.get("villages", 0))
        part["population"] = int(side.get("population", 0))
        part["elderly_population"] = int(side.get("elderly_population", 0))
    if kept["villages"] == 0 or cut["villages"] == 0:
        raise InvalidParameter("split_line: one of the two parts would hold no village or community")
    return SplitParts(township=township, kept=kept, cut=cut)


def _split_lines(*, parts: SplitParts, today: datetime.date) -> dict:
    """The township lines a split changes: those that would go wholly to the new unit (with their
    history), those cut (the part along the new unit, ``to_new_unit_m``, becomes a new line) and
    the length of the new line between the two parts; metres, geodesic."""
    along = {
        row["id"]: row["to_new_m"]
        for row in sql.rows(
            SPLIT_LINES_SQL, {"id": parts.township["id"], "cut": parts.cut["geom"], "tol": SAME_POINT_DEG}
        )
    }
    moved, cut = [], []
    for line in boundary_line_list(today=today).filter(id__in=along).order_by("code"):
        to_new = along[line.id]
        entry = _line_entry(line)
        if to_new >= line.length_m - SPLIT_LINE_TOLERANCE_M:
            moved.append(entry)
        elif to_new > SPLIT_LINE_TOLERANCE_M:
            cut.append(entry | {"to_new_unit_m": round(to_new, 1)})
    between = sql.row(SPLIT_BETWEEN_SQL, {"kept": parts.kept["geom"], "cut": parts.cut["geom"]})["length_m"]
    return {"lines_moved": moved, "lines_cut": cut, "line_between_m": round(between, 1)}


def split_impact(*, parts: SplitParts, today: datetime.date) -> dict:
    """What cutting one township in two along a line would do (the parts from ``split_parts``, which
    says when a line is refused): the two parts' areas (m², geodesic) and the villages (points),
    population and aged 60+ in each; the part with the township's seat stays the township, the
    other would be the new unit; the township lines that go to the new unit or are cut, and the
    new line between the parts."""
    rows = [
        {
            "part": name,
            "area_m2": round(part["area_m2"], 1),
            "villages": part["villages"],
            "population": part["population"],
            "elderly_population": part["elderly_population"],
        }
        for name, part in (("remaining", parts.kept), ("new_unit", parts.cut))
    ]
    return {
        "standards": None,
        "units": [{"code": parts.township["code"], "name": parts.township["name"]}],
        "parts": rows,
        "area_m2": round(sum(r["area_m2"] for r in rows), 1),
        "population": sum(r["population"] for r in rows),
        "elderly_population": sum(r["elderly_population"] for r in rows),
        "villages": sum(r["villages"] for r in rows),
        "lines_retired": [],
        "lines_joined": [],
        **_split_lines(parts=parts, today=today),
        "names_that_change": [],
    }


# --- The impact of moving villages to a neighbouring township (移交村（社区）到相邻乡镇) ------------

# The area the villages take with them: the union of their Voronoi cells among all the source's
# villages (the cells of the other villages stay), clipped to the source polygon; what remains of
# the source, and the target with the area added (snapped to it first, about a centimetre, so that
# the shared edge's vertices match). ``edge_m``: the length of the boundary the area moved shares
# with the target (geodesic metres; a touch at a point is 0); ``kept_pieces``: the pieces (polygons)
# of what remains; ``others_in``: villages not moved whose point lies in the area
# (two villages at one place share a cell).
MOVE_PARTS_SQL = sql.compose(
    """
WITH s AS (SELECT id, geom, point FROM {division} WHERE id = %(source)s),
t AS (SELECT id, geom FROM {division} WHERE id = %(target)s),
v AS (SELECT code, point FROM {division}
       WHERE parent_id = %(source)s AND level = 'village' AND point IS NOT NULL),
cells AS (
    SELECT c.geom AS cell
      FROM s, ST_Dump(ST_VoronoiPolygons((SELECT ST_Collect(point) FROM v), 0, s.geom)) c
),
moved AS (
    SELECT ST_Multi(ST_CollectionExtract(ST_Intersection(ST_Union(c.cell), s.geom), 3)) AS geom
      FROM cells c, s
     WHERE EXISTS (SELECT 1 FROM v WHERE v.code = ANY(%(codes)s) AND ST_Covers(c.cell, v.point))
     GROUP BY s.geom
),
shapes AS (
    SELECT moved.geom AS moved,
           ST_Multi(ST_CollectionExtract(ST_Difference(s.geom, moved.geom), 3)) AS kept,
           ST_Multi(ST_CollectionExtract(ST_Union(ST_Snap(t.geom, moved.geom, %(tol)s), moved.geom), 3)) AS target
      FROM moved, s, t
)
SELECT shapes.moved, shapes.kept, shapes.target,
       ST_Area(s.geom::geography) AS source_area_m2, ST_Area(t.geom::geography) AS target_area_m2,
       ST_Area(shapes.moved::geography) AS moved_area_m2, ST_Area(shapes.kept::geography) AS kept_area_m2,
       ST_Area(shapes.target::geography) AS target_after_area_m2,
       ST_Intersects(shapes.moved, s.point) AS takes_seat,
       COALESCE(ST_Length(ST_CollectionExtract(ST_Intersection(ST_Boundary(ST_Snap(shapes.moved, t.geom, %(tol)s)),
                                                                ST_Boundary(t.geom)), 2)::geography), 0) AS edge_m,
       ST_NumGeometries(shapes.kept) AS kept_pieces,
       ST_NumGeometries(shapes.target) AS target_pieces,
       (SELECT count(*) FROM v WHERE v.code <> ALL(%(codes)s) AND ST_Intersects(shapes.moved, v.point)) AS others_in
  FROM shapes, s, t
""",
    division=Division,
)
# The villages' figures of a township: all of them, and those moved.
MOVE_VILLAGES_SQL = sql.compose(
    """
SELECT v.code = ANY(%(codes)s) AS moved, count(*) AS villages,
       COALESCE(sum(v.population), 0) AS population, COALESCE(sum(v.elderly_population), 0) AS elderly_population
  FROM {division} v WHERE v.parent_id = %(id)s AND v.level = 'village'
 GROUP BY 1
""",
    division=Division,
)
# The area moved must share at least this much boundary with the target (a touch at a corner is not enough).
MOVE_EDGE_MIN_M = 1.0
UNIT_FIELDS = ("id", "code", "name", "kind", "parent_id")


@dataclass(frozen=True)
class MoveParts:
    """Villages of a township moved to a neighbour: ``source`` and ``target`` (id, code, name, kind,
    parent_id), the ``villages`` moved (code, name), and the shapes and figures (hex EWKB
    MultiPolygons, EPSG:4326; areas geodesic, m²): ``moved`` (the area they take), ``kept`` (what
    remains of the source), ``target_after`` (the target with the area added); ``before`` and
    ``after`` of each unit: area_m2, population, elderly_population, villages."""

    source: dict
    target: dict
    villages: list[dict]
    moved: dict
    kept: dict
    target_after: dict
    before: dict
    after: dict


def move_villages_parts(*, code: str, villages: list[str], target_code: str) -> MoveParts:
    """The area the villages ``villages`` of the current township ``code`` would take to the
    township ``target_code``: the impact and the application of a move both read it from here.
    InvalidParameter naming why a move is refused: no such township; no village, a village not of
    the source, or all of them (that is a merger); a target that is not a township of the same
    district, or the source itself; the area moved taking the source's seat, not sharing an edge
    with the target, or leaving the rest of the source in pieces."""
    source = Division.objects.filter(code=code, level=Division.Level.TOWNSHIP).values(*UNIT_FIELDS).first()
    if source is None:
        raise InvalidParameter(f"units: no current township {code}")
    codes = sorted(set(villages))
    if not codes:
        raise InvalidParameter("villages: at least one village or community to move")
    children = dict(
        Division.objects.filter(parent_id=source["id"], level=Division.Level.VILLAGE).values_list("code", "name")
    )
    foreign = [c for c in codes if c not in children]
    if foreign:
        raise InvalidParameter(
            f"villages: {', '.join(foreign)} not a current village or community of {source['name']} {source['code']}"
        )
    if len(codes) == len(children):
        raise InvalidParameter(
            f"villages: all the villages of {source['name']} would go, leaving it none (that is a merger)"
        )
    target = Division.objects.filter(code=target_code, level=Division.Level.TOWNSHIP).values(*UNIT_FIELDS).first()
    if target is None:
        raise InvalidParameter(f"target_code: no current township {target_code}")
    if target["id"] == source["id"]:
        raise InvalidParameter("target_code: the target must be another township than the source")
    if target["parent_id"] != source["parent_id"]:
        raise InvalidParameter(
            f"target_code: {target['name']} lies in another district; moving villages across districts "
            "needs a district-level change"
        )
    unplaced = sorted(
        Division.objects.filter(code__in=codes, parent_id=source["id"], point__isnull=True).values_list(
            "code", flat=True
        )
    )
    if unplaced:
        raise InvalidParameter(f"villages: {', '.join(unplaced)} have no location; their area cannot be drawn")
    shapes = sql.row(
        MOVE_PARTS_SQL, {"source": source["id"], "target": target["id"], "codes": codes, "tol": SAME_POINT_DEG}
    )
    if shapes["takes_seat"]:
        raise InvalidParameter(
            f"villages: the area moved would take the seat of {source['name']}; keep the villages around it"
        )
    if shapes["others_in"]:
        raise InvalidParameter("villages: a village not moved lies in the area moved (at the same place as one moved)")
    if shapes["edge_m"] < MOVE_EDGE_MIN_M:
        raise InvalidParameter(
            f"target_code: the area moved does not share a boundary with {target['name']} "
            "(touching at a point is not enough)"
        )
    if shapes["kept_pieces"] != 1:
        raise InvalidParameter(
            f"villages: what remains of {source['name']} would be in {shapes['kept_pieces']} pieces; it must stay one"
        )
    if shapes["target_pieces"] != 1:
        raise InvalidParameter(f"target_code: {target['name']} with the area moved would not be one piece")
    sides = {r["moved"]: r for r in sql.rows(MOVE_VILLAGES_SQL, {"id": source["id"], "codes": codes})}
    target_villages = sql.row(MOVE_VILLAGES_SQL, {"id": target["id"], "codes": []}) or {}
    figures = ("villages", "population", "elderly_population")
    moved = {f: int(sides[True][f]) for f in figures}
    kept = {f: int(sides[False][f]) for f in figures}
    into = {f: int(target_villages.get(f) or 0) for f in figures}
    before = {
        "source": {"area_m2": shapes["source_area_m2"], **{f: moved[f] + kept[f] for f in figures}},
        "target": {"area_m2": shapes["target_area_m2"], **into},
    }
    after = {
        "source": {"area_m2": shapes["kept_area_m2"], **kept},
        "target": {"area_m2": shapes["target_after_area_m2"], **{f: into[f] + moved[f] for f in figures}},
    }
    return MoveParts(
        source=source,
        target=target,
        villages=[{"code": c, "name": children[c]} for c in codes],
        moved={"geom": shapes["moved"], "area_m2": shapes["moved_area_m2"], **moved},
        kept={"geom": shapes["kept"], "area_m2": shapes["kept_area_m2"], **kept},
        target_after={"geom": shapes["target"], "area_m2": shapes["target_after_area_m2"]},
        before=before,
        after=after,
    )


def move_villages_impact(*, parts: MoveParts, today: datetime.date, stated: dict | None = None) -> dict:
    """What moving villages to a neighbouring township would do (the parts from
    ``move_villages_parts``, which says when a move is refused): the source and the target before
    and after (area in m², geodesic; population, aged 60+ and villages as their villages' sums), the
    villages moved, the township lines of the source that run along the area moved (wholly: they go
    to the target, ``lines_to_target``; in part: they change, ``lines_changed``, with the length
    along the area moved; the line to the target always goes on, along the new stretch between
    what remains and the area moved, ``line_between_m``), and each unit after
    checked against the standards of its kind (a town or a street)."""

    def row(unit: dict, figures: dict, *, check: bool) -> dict:
        entry = {"code": unit["code"], "name": unit["name"], **figures, "area_m2": round(figures["area_m2"], 1)}
        if check:
            entry["standards"] = _standards(
                unit=STANDARD_UNIT.get(unit["kind"]), population=figures["population"], stated=stated
            )
        return entry

    source, target = parts.source, parts.target
    units = [row(source, parts.before["source"], check=False), row(target, parts.before["target"], check=False)]
    units_after = [row(source, parts.after["source"], check=True), row(target, parts.after["target"], check=True)]
    along = {
        r["id"]: r["to_new_m"]
        for r in sql.rows(SPLIT_LINES_SQL, {"id": source["id"], "cut": parts.moved["geom"], "tol": SAME_POINT_DEG})
    }
    moved_lines, changed_lines = [], []
    for line in boundary_line_list(today=today).filter(id__in=along).order_by("code"):
        to_target = along[line.id]
        entry = _line_entry(line)
        # The line to the target itself goes on (the stretch between what remains and the area moved).
        to_the_target = target["id"] in (line.left_division_id, line.right_division_id)
        if to_target >= line.length_m - SPLIT_LINE_TOLERANCE_M and not to_the_target:
            moved_lines.append(entry)
        elif to_target > SPLIT_LINE_TOLERANCE_M:
            changed_lines.append(entry | {"along_moved_m": round(to_target, 1)})
    between = sql.row(SPLIT_BETWEEN_SQL, {"kept": parts.kept["geom"], "cut": parts.moved["geom"]})["length_m"]
    return {
        "standards": None,
        "units": units,
        "units_after": units_after,
        "villages_moved": parts.villages,
        "moved": {
            "area_m2": round(parts.moved["area_m2"], 1),
            **{f: parts.moved[f] for f in ("villages", "population", "elderly_population")},
        },
        "area_m2": round(sum(u["area_m2"] for u in units), 1),
        "population": sum(u["population"] for u in units),
        "elderly_population": sum(u["elderly_population"] for u in units),
        "villages": sum(u["villages"] for u in units),
        "lines_retired": [],
        "lines_joined": [],
        "lines_to_target": moved_lines,
        "lines_changed": changed_lines,
        "line_between_m": round(between, 1),
        "names_that_change": [],
    }
