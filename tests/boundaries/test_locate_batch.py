"""Batch locate: every row answered as the single-point locate answers it, rows outside Chongqing
kept and marked, the stated datum applied, bad rows named by line, limits answered 413."""

import csv
import io
import json

import numpy as np
import prcoords
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from boundaries.locate_batch import BatchInput, division_locate_batch, locate_batch
from boundaries.selectors import division_locate
from gis_portal.core import sql

pytestmark = pytest.mark.django_db

URL = "/api/v1/locate/batch"


def random_points(count: int, seed: int = 7) -> list[tuple[float, float]]:
    rows = sql.rows(
        sql.SQL(
            "SELECT ST_X(g) AS lon, ST_Y(g) AS lat FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, %(n)s, %(seed)s)))"
            ".geom AS g FROM boundaries_division WHERE level = 'municipality') p"
        ),
        {"n": count, "seed": seed},
    )
    return [(r["lon"], r["lat"]) for r in rows]


def expected(lon: float, lat: float) -> list[str]:
    one = division_locate(lon=lon, lat=lat)
    return [
        (one[level] or {}).get(key) or ""
        for level in ("municipality", "cluster", "district", "township", "village")
        for key in ("code", "name")
    ]


def post(api, name: str, text: str, **fields):
    upload = SimpleUploadedFile(name, text.encode("utf-8"))
    return api.post(URL, {"file": upload, **fields}, format="multipart")


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_every_row_as_the_single_locate_answers_it_and_outside_rows_are_marked(api):
    points = random_points(300)
    points.insert(5, (116.4, 39.9))  # Beijing: outside, kept in place
    text = "id,x,y,note\n" + "".join(f"p{i},{x!r},{y!r},备注{i}\n" for i, (x, y) in enumerate(points))
    response = post(api, "points.csv", text, datum="WGS84")
    assert response.status_code == 200, response.content
    assert (
        response["Content-Disposition"].startswith("attachment")
        and "points-located.csv" in response["Content-Disposition"]
    )
    rows = read_csv(response)
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(len(points))]
    assert rows[5]["in_chongqing"] == "false" and rows[5]["district_code"] == "" and rows[5]["note"] == "备注5"
    fields = [f"{level}_{key}" for level in ("municipality", "cluster", "district", "township", "village")
              for key in ("code", "name")]  # fmt: skip
    for row, (x, y) in zip(rows, points, strict=True):
        if row["id"] == "p5":
            continue
        assert row["in_chongqing"] == "true"
        assert [row[f] for f in fields] == expected(x, y), row["id"]
    assert (rows[0]["x"], rows[0]["note"]) == (repr(points[0][0]), "备注0")  # the row as given


def test_rows_come_back_as_sent_with_the_columns_added(api):
    ((x, y),) = random_points(1)
    # Unquoted: each line comes back byte for byte (trailing zeros, CRLF input, blank lines skipped).
    plain = f"id,x,y,note\r\na1,{x:.7f}0,{y:.7f},甲 乙\r\n\r\na2,116.40,39.90,\r\n"
    lines = post(api, "plain.csv", plain, datum="WGS84").content.decode("utf-8-sig").split("\n")
    assert lines[1].startswith(f"a1,{x:.7f}0,{y:.7f},甲 乙,true,500000,重庆市,")
    assert lines[2] == "a2,116.40,39.90,,false" + "," * 10 and lines[3:] == [""]
    # Quoted (a comma and a line break inside fields): parsed and written back as CSV.
    quoted = f'id,x,y,note\n"b,1",{x!r},{y!r},"第一行\n第二行"\n'
    rows = read_csv(post(api, "quoted.csv", quoted, datum="WGS84"))
    assert [(r["id"], r["note"], r["in_chongqing"]) for r in rows] == [("b,1", "第一行\n第二行", "true")]
    assert rows[0]["township_code"] == expected(x, y)[6]


def test_the_stated_datum_is_applied():
    """A GCJ-02 point is the WGS84 point it was shifted from: the same answers."""
    points = random_points(200, seed=11)
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    shifted = [prcoords.wgs_gcj(prcoords.Coords(y, x)) for x, y in points]
    gcj = BatchInput("csv", np.array([c.lon for c in shifted]), np.array([c.lat for c in shifted]))
    as_gcj = locate_batch(batch=gcj, datum="GCJ-02")
    as_wgs = division_locate_batch(lon=lon, lat=lat)
    assert as_gcj == as_wgs
    # Read as WGS84, the shifted points (hundreds of metres off) land elsewhere for some.
    misread = locate_batch(batch=gcj, datum="WGS84")
    assert sum(a != b for a, b in zip(misread, as_wgs, strict=True)) > 0


def test_geojson_in_and_out(api):
    (lon, lat), = random_points(1, seed=3)  # fmt: skip
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "a",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"n": 1},
            },
            {"type": "Feature", "id": "b", "geometry": {"type": "Point", "coordinates": [0.5, 0.5]}, "properties": {}},
        ],
    }
    response = post(api, "p.geojson", json.dumps(collection), datum="CGCS2000")
    assert response.status_code == 200, response.content
    features = response.json()["features"]
    assert [f["id"] for f in features] == ["a", "b"]
    assert features[0]["properties"]["n"] == 1 and features[0]["properties"]["in_chongqing"] is True
    assert features[0]["properties"]["township_code"] == expected(lon, lat)[6]
    assert features[1]["properties"]["in_chongqing"] is False and features[1]["properties"]["district_code"] is None
    as_csv = read_csv(post(api, "p.geojson", json.dumps(collection), datum="WGS84", output="csv"))
    assert [r["id"] for r in as_csv] == ["a", "b"] and as_csv[0]["village_code"] == expected(lon, lat)[8]


def test_bad_rows_are_named_by_line(api):
    text = "id,x,y\n1,106.5,29.5\n2,abc,29.5\n3,106.5\n4,106.5,29.6\n5,nan,29.6\n"
    response = post(api, "bad.csv", text, datum="WGS84")
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "3 bad row(s)" in message and "line 3:" in message and "line 4:" in message and "line 6:" in message
    assert "line 2:" not in message and "line 5:" not in message
    assert post(api, "bad.csv", "id,lon,lat\n1,106.5,29.5\n", datum="WGS84").status_code == 400
    features = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString"}}]}
    answer = post(api, "bad.geojson", json.dumps(features), datum="WGS84")
    assert answer.status_code == 400 and "feature 1:" in answer.json()["error"]["message"]


def test_the_datum_is_stated_never_guessed(api):
    response = post(api, "p.csv", "id,x,y\n1,106.5,29.5\n")
    assert response.status_code == 400 and "datum" in response.json()["error"]["message"]
    assert post(api, "p.csv", "id,x,y\n1,106.5,29.5\n", datum="BD-09").status_code == 400


@override_settings(
    LOCATE_BATCH_LIMITS={"max_bytes": 2000, "max_points": 3},
    REQUEST_BODY_LIMITS={"/api/v1/locate/batch": 2000},
)
def test_limits_answer_413(api):
    four = "id,x,y\n" + "".join(f"{i},106.5,29.5\n" for i in range(4))
    response = post(api, "p.csv", four, datum="WGS84")
    assert response.status_code == 413 and "3" in response.json()["error"]["message"]
    big = "id,x,y\n" + "".join(f"{i},106.5,29.5\n" for i in range(200))  # over 2,000 bytes
    response = post(api, "p.csv", big, datum="WGS84")
    assert response.status_code == 413 and "limit" in response.json()["error"]["message"]
