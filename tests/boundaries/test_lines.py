"""Boundary lines derived from the polygons: provincial, county and township levels, and the
tri-junctions. Each check recomputes what it expects in PostGIS by a route other than the one the
derivation takes (ST_Relate/ST_SharedPaths/perimeters instead of ST_Intersection of boundaries)."""

import pytest
from django.core.management import call_command

from boundaries.models import BoundaryLine, Marker, TriJunction
from tests.boundaries.queries import row, rows, scalar

pytestmark = pytest.mark.django_db

METRES_PER_DEGREE = 111_320


def test_five_provincial_lines_make_up_the_perimeter():
    lines = BoundaryLine.objects.filter(level="province")
    assert sorted(lines.values_list("right_code", flat=True)) == ["420000", "430000", "510000", "520000", "610000"]
    assert set(lines.values_list("name", flat=True)) >= {"重庆市—四川省", "重庆市—贵州省", "重庆市—陕西省"}
    assert all(line.left_code == "500000" and line.right_division_id is None for line in lines)
    perimeter = scalar("SELECT ST_Length(ST_Boundary(geom)::geography) FROM {division} WHERE code = '500000'")
    total = sum(line.length_m for line in lines)
    assert perimeter == pytest.approx(3_393_000, rel=0.001)
    assert total == pytest.approx(perimeter, rel=0.001)
    # They don't overlap, and together they cover the outline (what is left of it: under 0.1%).
    overlap = scalar(
        "SELECT coalesce(sum(ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography)), 0)"
        "  FROM {line} a JOIN {line} b ON a.code < b.code"
        " WHERE a.level = 'province' AND b.level = 'province'"
    )
    assert overlap == 0
    uncovered = scalar(
        "SELECT ST_Length(ST_Difference(ST_Boundary(d.geom), (SELECT ST_Union(geom) FROM {line}"
        " WHERE level = 'province'))::geography) FROM {division} d WHERE d.code = '500000'"
    )
    assert uncovered < perimeter * 0.001


def test_county_lines_are_exactly_the_adjacent_pairs():
    # Pairs whose boundaries meet along a line (dimension 1) with no interior in common.
    pairs = [
        (pair["left_code"], pair["right_code"])
        for pair in rows(
            "SELECT a.code AS left_code, b.code AS right_code FROM {division} a JOIN {division} b"
            "    ON a.code < b.code AND a.geom && b.geom"
            " WHERE a.level = 'district' AND b.level = 'district' AND ST_Relate(a.geom, b.geom, 'F***1****')"
        )
    ]
    assert len(pairs) == 83
    lines = BoundaryLine.objects.filter(level="county")
    assert sorted((line.left_code, line.right_code) for line in lines) == sorted(pairs)
    line = lines.get(code="500103-500105")
    assert line.name == "渝中区—江北区"
    assert line.left_division.name == "渝中区" and line.right_division.name == "江北区"
    assert line.is_synthetic is False
    # 渝中区 and 江北区 share the Jialing river, about 10 km of it.
    assert 8_000 < line.length_m < 14_000


def test_each_county_line_is_within_a_metre_of_the_shared_boundary():
    """Hausdorff distance in degrees, turned into metres with the longest a degree gets here
    (a degree of latitude; one of longitude is shorter), so the bound is conservative."""
    worst = rows(
        """
        SELECT l.code, ST_HausdorffDistance(
                   l.geom, ST_CollectionExtract(ST_SharedPaths(ST_Boundary(a.geom), ST_Boundary(b.geom)), 2)
               ) * %(metres_per_degree)s AS m
          FROM {line} l
          JOIN {division} a ON a.id = l.left_division_id
          JOIN {division} b ON b.id = l.right_division_id
         WHERE l.level = 'county'
         ORDER BY m DESC NULLS FIRST
        """,
        {"metres_per_degree": METRES_PER_DEGREE},
    )
    assert len(worst) == 83
    assert worst[0]["m"] is not None and worst[0]["m"] < 1.0, worst[:3]


def test_every_internal_district_edge_is_in_exactly_one_county_line():
    overlap = scalar(
        "SELECT coalesce(sum(ST_Length(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 2)::geography)), 0)"
        "  FROM {line} a JOIN {line} b ON a.code < b.code AND a.geom && b.geom"
        " WHERE a.level = 'county' AND b.level = 'county'"
    )
    assert overlap == 0
    # Each district's outline, less the municipal outline, is covered by the county lines.
    uncovered = row(
        """
        SELECT d.name, ST_Length(ST_Difference(
                   ST_Difference(ST_Boundary(d.geom), (SELECT ST_Boundary(geom) FROM {division}
                                                         WHERE code = '500000')),
                   (SELECT ST_Union(geom) FROM {line} l
                     WHERE l.level = 'county' AND d.id IN (l.left_division_id, l.right_division_id)))::geography) AS m
          FROM {division} d WHERE d.level = 'district' ORDER BY m DESC LIMIT 1
        """
    )
    assert uncovered["m"] < 1.0, uncovered
    # And the lines add up to the internal edges: (sum of perimeters - outline) / 2.
    internal = scalar(
        "SELECT (sum(ST_Length(ST_Boundary(geom)::geography)) FILTER (WHERE level = 'district')"
        "      - sum(ST_Length(ST_Boundary(geom)::geography)) FILTER (WHERE level = 'municipality')) / 2"
        "  FROM {division}"
    )
    total = sum(BoundaryLine.objects.filter(level="county").values_list("length_m", flat=True))
    assert total == pytest.approx(internal, rel=0.001)


def test_township_lines_inside_each_district():
    pairs = scalar(
        "SELECT count(*) FROM {division} a JOIN {division} b"
        "    ON a.parent_id = b.parent_id AND a.code < b.code AND a.geom && b.geom"
        " WHERE a.level = 'township' AND b.level = 'township' AND ST_Relate(a.geom, b.geom, 'F***1****')"
    )
    lines = BoundaryLine.objects.filter(level="township")
    assert lines.count() == pairs > 1000
    assert not lines.filter(is_synthetic=False).exists()
    assert all(line.left_code[:6] == line.right_code[:6] == line.district.code for line in lines[:200])
    # Per district, the township lines are the internal township edges: (perimeters - district) / 2.
    mismatched = rows(
        """
        WITH t AS (SELECT parent_id, sum(ST_Length(ST_Boundary(geom)::geography)) AS p
                     FROM {division} WHERE level = 'township' GROUP BY parent_id),
             l AS (SELECT district_id, sum(length_m) AS m FROM {line}
                    WHERE level = 'township' GROUP BY district_id)
        SELECT d.name, (t.p - ST_Length(ST_Boundary(d.geom)::geography)) / 2 AS expected, coalesce(l.m, 0) AS derived
          FROM {division} d JOIN t ON t.parent_id = d.id LEFT JOIN l ON l.district_id = d.id
         WHERE abs((t.p - ST_Length(ST_Boundary(d.geom)::geography)) / 2 - coalesce(l.m, 0)) > 1
        """
    )
    assert mismatched == []


ENDS_SQL = """
SELECT DISTINCT ST_AsText(ST_SnapToGrid(p, 1e-7)) AS wkt FROM (
    SELECT ST_StartPoint(d.geom) AS p FROM {line} l, ST_Dump(l.geom) d
     WHERE l.level = %(level)s AND NOT ST_IsClosed(d.geom)
    UNION ALL
    SELECT ST_EndPoint(d.geom) FROM {line} l, ST_Dump(l.geom) d
     WHERE l.level = %(level)s AND NOT ST_IsClosed(d.geom)) e
"""


@pytest.mark.parametrize(("level", "expected"), [("province", 5), ("county", 74), ("township", None)])
def test_trijunctions_are_the_line_ends(level, expected):
    """Every open line part ends at a tri-junction and every tri-junction is a line end, so the
    count is the number of distinct line ends. Around Chongqing the five provinces meet in a ring:
    five provincial tri-junctions."""
    ends = {end["wkt"] for end in rows(ENDS_SQL, {"level": level})}
    junction_wkt = {
        junction["wkt"]
        for junction in rows(
            "SELECT ST_AsText(ST_SnapToGrid(geom, 1e-7)) AS wkt FROM {trijunction} WHERE level = %(level)s",
            {"level": level},
        )
    }
    assert len(junction_wkt) == TriJunction.objects.filter(level=level).count()
    assert junction_wkt == ends
    if expected is not None:
        assert len(junction_wkt) == expected


def test_county_trijunctions_agree_with_the_lines():
    """Three districts meeting at a point: the three lines between them all end there; two
    districts and a province: their line ends on the provincial line."""
    codes = dict(BoundaryLine.objects.filter(level__in=["county", "province"]).values_list("code", "id"))
    inside = border = 0
    for junction in TriJunction.objects.filter(level="county"):
        sides = junction.codes.split(",")
        assert len(sides) == 3
        districts = [code for code in sides if code.startswith("50")]
        provinces = [code for code in sides if not code.startswith("50")]
        expected = [f"{a}-{b}" for i, a in enumerate(districts) for b in districts[i + 1 :]]
        expected += [f"500000-{p}" for p in provinces]
        touching = BoundaryLine.objects.filter(
            id__in=[codes[code] for code in expected], geom__dwithin=(junction.geom, 1e-7)
        ).count()
        assert touching == len(expected), junction.names
        inside += not provinces
        border += bool(provinces)
    assert inside > 20 and border > 20


def test_derive_is_idempotent_and_keeps_markers():
    before = dict(BoundaryLine.objects.values_list("code", "id"))
    markers = Marker.objects.count()
    call_command("derive_boundary_lines", verbosity=0)
    assert dict(BoundaryLine.objects.values_list("code", "id")) == before
    assert Marker.objects.count() == markers > 1000


def test_county_network_topology():
    """Node the county and provincial lines into a planar graph. Its nodes are exactly the county
    tri-junctions; its faces are the districts' polygons plus the holes in the municipality
    (enclaves of neighbouring provinces); and Euler's formula holds: V - E + F = components, a
    closed ring without a node counting as one node, one edge and one component."""
    network = row(
        """
        WITH net AS (SELECT ST_LineMerge(ST_Node(ST_Collect(d.geom))) AS g
                       FROM {line} l, ST_Dump(l.geom) d WHERE l.level IN ('county', 'province')),
             e AS (SELECT (ST_Dump(g)).geom FROM net),
             v AS (SELECT DISTINCT ST_AsText(ST_SnapToGrid(p, 1e-7)) AS p
                     FROM (SELECT ST_StartPoint(geom) AS p FROM e WHERE NOT ST_IsClosed(geom)
                           UNION ALL SELECT ST_EndPoint(geom) FROM e WHERE NOT ST_IsClosed(geom)) x),
             f AS (SELECT (ST_Dump(ST_Polygonize(geom))).geom FROM e),
             located AS (SELECT (SELECT count(*) FROM {division} d
                                  WHERE d.level = 'district' AND ST_Covers(d.geom, ST_PointOnSurface(f.geom))) AS n
                           FROM f)
        SELECT (SELECT count(*) FROM v) AS nodes, (SELECT count(*) FROM e) AS edges,
               (SELECT count(*) FROM e WHERE ST_IsClosed(geom)) AS rings,
               (SELECT count(*) FROM f) AS faces, (SELECT count(*) FROM located WHERE n = 1) AS in_one_district,
               (SELECT count(*) FROM located WHERE n = 0) AS holes,
               (SELECT count(*) FROM v WHERE p NOT IN (SELECT ST_AsText(ST_SnapToGrid(geom, 1e-7))
                                                        FROM {trijunction} WHERE level = 'county')) AS unmatched
        """
    )
    nodes, edges, rings, faces = network["nodes"], network["edges"], network["rings"], network["faces"]
    in_one_district, holes, unmatched = network["in_one_district"], network["holes"], network["unmatched"]
    assert nodes == TriJunction.objects.filter(level="county").count() and unmatched == 0
    district_parts = scalar("SELECT sum(ST_NumGeometries(geom)) FROM {division} WHERE level = 'district'")
    municipal_holes = scalar(
        "SELECT sum(ST_NumInteriorRings(p.geom)) FROM {division} d, ST_Dump(d.geom) p WHERE d.code = '500000'"
    )
    assert in_one_district == district_parts and holes == municipal_holes
    assert faces == district_parts + municipal_holes
    assert (nodes + rings) - edges + faces == 1 + rings
