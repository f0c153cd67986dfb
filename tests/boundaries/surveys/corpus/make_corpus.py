"""Writes the hostile survey-upload corpus beside this file (run once; the files are committed).

.venv/bin/python tests/boundaries/survey_corpus/make_corpus.py
"""

import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas
import shapely

HERE = Path(__file__).resolve().parent
LON, LAT = 106.55, 29.56  # 渝中区
TRACK = [(LON + i * 0.001, LAT + i * 0.0005) for i in range(10)]


def write(name: str, data: bytes | str) -> None:
    (HERE / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def feature_collection(features: list[dict], **extra) -> str:
    return json.dumps({"type": "FeatureCollection", **extra, "features": features})


def feature(geometry: dict, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def shapefile_parts(frame: geopandas.GeoDataFrame, *, encoding: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "markers.shp"
        frame.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding=encoding)
        return {p.name: p.read_bytes() for p in Path(tmp).iterdir()}


GPX_TRACK = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="corpus" xmlns="http://www.topografix.com/GPX/1/1">'
    "<trk><name>t</name><trkseg>"
    + "".join(f'<trkpt lat="{y}" lon="{x}"></trkpt>' for x, y in TRACK)
    + "</trkseg></trk></gpx>"
)

write("empty.gpx", b"")
write("truncated.gpx", GPX_TRACK[: len(GPX_TRACK) // 2])
write("truncated.geojson", feature_collection([feature({"type": "LineString", "coordinates": TRACK})])[:60])
write("truncated.zip", zipped({"a.shp": b"x" * 1000, "a.dbf": b"y" * 1000, "a.shx": b"z" * 100})[:300])
write("json_named.gpx", feature_collection([feature({"type": "LineString", "coordinates": TRACK})]))
write("png_named.kml", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
write("drawing.dxf", b"0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n")
write(
    "billion_laughs.gpx",
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + ']>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
    + '<wpt lat="29.56" lon="106.55"><name>&lol9;</name></wpt></gpx>',
)
write(
    "external_entity.kml",
    '<?xml version="1.0"?>\n<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&xxe;</name>'
    "<Point><coordinates>106.55,29.56</coordinates></Point></Placemark></kml>",
)
write(
    "external_entity_parameter.gpx",
    '<?xml version="1.0"?>\n<!DOCTYPE gpx [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd">%remote;]>\n'
    '<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"></gpx>',
)
write(
    "zero_features.gpx",
    '<?xml version="1.0"?>\n<gpx version="1.1" creator="c" xmlns="http://www.topografix.com/GPX/1/1"></gpx>',
)
write("zero_features.geojson", feature_collection([]))
bowtie = [[LON, LAT], [LON + 0.01, LAT + 0.01], [LON + 0.01, LAT], [LON, LAT + 0.01], [LON, LAT]]
write("self_intersecting_polygon.geojson", feature_collection([feature({"type": "Polygon", "coordinates": [bowtie]})]))
write("one_point_line.geojson", feature_collection([feature({"type": "LineString", "coordinates": [[LON, LAT]]})]))
write(
    "nan_coordinates.geojson",
    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"number":"1"},'
    '"geometry":{"type":"Point","coordinates":[NaN, 29.56]}}]}',
)
write(
    "out_of_range.geojson", feature_collection([feature({"type": "Point", "coordinates": [200.0, 29.56]}, number="A1")])
)
write("swapped_latlon.csv", "number,x,y,crs\nA1,29.56,106.55,EPSG:4326\nA2,29.57,106.56,EPSG:4326\n")
write(
    "projected_labelled_4326.geojson",
    feature_collection(
        [feature({"type": "LineString", "coordinates": [[36446000.0, 3271000.0], [36447000.0, 3272000.0]]})],
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    ),
)
write("gk_without_crs.csv", "number,x,y\nA1,446000.5,3271000.2\nA2,447000.1,3272000.9\n")
write("gk_prefixed_labelled_unprefixed.csv", "number,x,y,crs\nA1,36446000.5,3271000.2,EPSG:4545\n")
write("gk_northing_as_x.csv", "number,x,y,crs\nA1,3271000.2,446000.5,EPSG:4545\n")
write("not_numbers.csv", "number,x,y,crs\nA1,106.55;DROP TABLE x,29.56,EPSG:4326\n")
write(
    "far_away_beijing.geojson",
    feature_collection([feature({"type": "Point", "coordinates": [116.39, 39.91]}, number="A1")]),
)
write("marker_without_number.geojson", feature_collection([feature({"type": "Point", "coordinates": [LON, LAT]})]))
write("control_characters.csv", "number,x,y,crs\n\x00\x01\x02,\x07,\x08,EPSG:4326\n")

markers = geopandas.GeoDataFrame(
    {"number": ["界桩-1", "界桩-2"], "note": ["完好", "损坏"]},
    geometry=[shapely.Point(LON, LAT), shapely.Point(LON + 0.01, LAT)],
    crs="EPSG:4326",
)
gbk = shapefile_parts(markers, encoding="GBK")
write("gbk_without_cpg.zip", zipped({n: d for n, d in gbk.items() if not n.endswith(".cpg")}))
write("shapefile_without_dbf.zip", zipped({n: d for n, d in gbk.items() if not n.endswith(".dbf")}))
write("zip_slip.zip", zipped({"../../../tmp/evil.shp": gbk["markers.shp"], "markers.dbf": gbk["markers.dbf"]}))
write("absolute_member.zip", zipped({"/tmp/evil.shp": gbk["markers.shp"]}))  # noqa: S108 (the attack itself)
write("nested.zip", zipped({"inner.zip": zipped(gbk)}))
write("script_member.zip", zipped({**gbk, "run.vrt": b"<OGRVRTDataSource/>"}))
write("too_many_members.zip", zipped({f"part{i}.xml": b"<x/>" for i in range(40)}))
write("two_shapefiles.zip", zipped({**gbk, **{n.replace("markers", "other"): d for n, d in gbk.items()}}))
bomb = io.BytesIO()
with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    with archive.open("markers.dbf", "w", force_zip64=True) as member:
        chunk = b"\0" * (1 << 20)
        for _ in range(200):
            member.write(chunk)
    archive.writestr("markers.shp", gbk["markers.shp"])
    archive.writestr("markers.shx", gbk["markers.shx"])
write("zip_bomb.zip", bomb.getvalue())
print(f"{len(list(HERE.glob('*.*'))) - 1} corpus files in {HERE}")
