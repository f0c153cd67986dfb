"""Reading survey files: every format and CRS the teams use, and the hostile corpus, each file of
which must be refused with a clear 4xx reason (the API test checks that nothing is written)."""

import io
import tempfile
import time
import zipfile
from pathlib import Path

import geopandas
import pytest
import shapely
from pyproj import Transformer

from boundaries.surveys.parsing import InvalidUpload, UploadLimits, survey_file_parse
from boundaries.surveys.sandbox import LimitExceeded
from tests.boundaries.surveys.corpus.make_corpus import LARGE, csv_rows

CORPUS = Path(__file__).parent.parent / "boundaries" / "surveys" / "corpus"
LON, LAT = 106.55, 29.56
TRACK = [(LON + i * 0.001, LAT + i * 0.0005) for i in range(10)]

# (file, CRS stated in the form, status, a phrase of the reason)
HOSTILE = [
    ("empty.gpx", None, 400, "empty"),
    ("truncated.gpx", None, 400, "malformed or truncated"),
    ("truncated.geojson", None, 400, "malformed or truncated"),
    ("truncated.zip", None, 400, "not a readable zip"),
    ("json_named.gpx", None, 415, "not gpx"),
    ("png_named.kml", None, 415, "not kml"),
    ("drawing.dxf", None, 415, "unsupported file type"),
    ("billion_laughs.gpx", None, 400, "DTD"),
    ("external_entity.kml", None, 400, "DTD"),
    ("external_entity_parameter.gpx", None, 400, "DTD"),
    ("zero_features.gpx", None, 400, "no features"),
    ("zero_features.geojson", None, 400, "no features"),
    ("self_intersecting_polygon.geojson", None, 400, "only tracks"),
    ("one_point_line.geojson", None, 400, "cannot be read"),
    ("nan_coordinates.geojson", None, 400, "NaN"),
    ("out_of_range.geojson", None, 400, "out of range"),
    ("swapped_latlon.csv", None, 400, "swapped"),
    ("projected_labelled_4326.geojson", None, 400, "out of range"),
    ("gk_without_crs.csv", None, 400, "does not state its CRS"),
    ("gk_prefixed_labelled_unprefixed.csv", None, 400, "zone prefix"),
    ("gk_northing_as_x.csv", None, 400, "swapped"),
    ("not_numbers.csv", None, 400, "must be numbers"),
    ("far_away_beijing.geojson", None, 400, "nowhere near Chongqing"),
    ("marker_without_number.geojson", None, 400, "no marker number"),
    ("control_characters.csv", None, 400, "must be numbers"),
    ("gbk_without_cpg.zip", None, 400, ".cpg"),
    ("shapefile_without_dbf.zip", None, 400, "lacks .dbf"),
    ("zip_slip.zip", None, 400, "outside"),
    ("absolute_member.zip", None, 400, "outside"),
    ("nested.zip", None, 400, "nested"),
    ("script_member.zip", None, 400, "only Shapefile parts"),
    ("too_many_members.zip", None, 400, "limit is 20"),
    ("two_shapefiles.zip", None, 400, "exactly one .shp"),
    ("zip_bomb.zip", None, 400, "zip bomb"),
    ("gk_without_crs.csv", "EPSG:3857", 400, "not accepted"),
    ("swapped_latlon.csv", "EPSG:4545", 400, "the file says EPSG:4326"),
    # Names a URL GDAL would fetch (issue 11, finding 2): refused before GDAL, nothing fetched.
    ("crs_link.geojson", None, 400, "links, URLs and other CRS definitions are not accepted"),
    ("crs_name_url.geojson", None, 400, "links, URLs and other CRS definitions are not accepted"),
    ("crs_on_geometry.geojson", None, 400, "crs on a feature or geometry"),
    ("network_link.kml", None, 400, "no features"),
    ("link_only.gpx", None, 400, "no features"),
    ("prj_url.zip", None, 400, "does not state its CRS"),
    # Small files that cost minutes (finding 3).
    ("kml_1000_folders.kml", None, 400, "1,000 layers; the limit is 20"),
    ("recursive_view.gpkg", None, 400, "views are not accepted"),
    ("tiles.gpkg", None, 400, "other than features"),
    # Ordinary files that gave 500s (finding 4).
    ("zip_member_dot.zip", None, 400, "without a file name"),
    ("zip_member_empty_name.zip", None, 400, "without a file name"),
    ("encrypted.zip", None, 400, "encrypted"),
    ("csv_short_row.csv", None, 400, "line 3 has fewer fields than the header"),
]
# Files of the corpus that are accepted (real files have them): (file, features read).
ACCEPTED = [("attribute_table.gpkg", 1)]


def test_corpus_is_complete():
    files = {p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".py"}
    assert files == {name for name, *_ in HOSTILE} | {name for name, _ in ACCEPTED}
    assert len(files) >= 45


@pytest.mark.parametrize(("name", "crs", "status", "reason"), HOSTILE)
def test_hostile_file_is_refused_with_a_reason(name, crs, status, reason):
    with pytest.raises(InvalidUpload) as refused:
        survey_file_parse(data=(CORPUS / name).read_bytes(), filename=name, crs=crs)
    assert refused.value.status == status
    assert reason.lower() in refused.value.message.lower()


def test_limits_are_enforced_with_clear_messages():
    data = (
        '{"type":"FeatureCollection","features":['
        + ",".join(
            f'{{"type":"Feature","properties":{{"number":"{i}"}},"geometry":{{"type":"Point","coordinates":[{LON},{LAT}]}}}}'
            for i in range(20)
        )
        + "]}"
    ).encode()
    with pytest.raises(InvalidUpload, match=r"limit is 10$"):
        survey_file_parse(data=data, filename="m.geojson", limits=UploadLimits(max_features=10))
    with pytest.raises(InvalidUpload, match="vertices; the limit is 5") as too_many:
        survey_file_parse(data=data, filename="m.geojson", limits=UploadLimits(max_vertices=5))
    assert too_many.value.status == 400
    with pytest.raises(InvalidUpload, match="limit is 100") as too_big:
        survey_file_parse(data=data, filename="m.geojson", limits=UploadLimits(max_bytes=100))
    assert too_big.value.status == 413


GPX = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
    '<wpt lat="29.56" lon="106.55"><name>500103-500105-001S</name></wpt>'
    "<trk><name>t</name><trkseg>"
    + "".join(f'<trkpt lat="{y}" lon="{x}"><ele>200</ele></trkpt>' for x, y in TRACK)
    + "</trkseg></trk></gpx>"
)


def test_gpx_track_and_waypoint():
    parsed = survey_file_parse(data=GPX.encode(), filename="walk.gpx", crs="")
    assert (parsed.format, parsed.crs, parsed.crs_source) == ("gpx", 4326, "format")
    kinds = sorted(f.kind for f in parsed.features)
    assert kinds == ["marker", "track"]
    marker = next(f for f in parsed.features if f.kind == "marker")
    assert marker.number == "500103-500105-001S"
    track = next(f for f in parsed.features if f.kind == "track")
    assert shapely.get_num_coordinates(track.geometry) == 10
    assert track.geometry.bounds[0] == pytest.approx(LON)


def test_kml_placemarks():
    kml = (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>A-1</name><Point><coordinates>106.55,29.56,0</coordinates></Point></Placemark>"
        "<Placemark><name>line</name><LineString><coordinates>106.55,29.56 106.56,29.57</coordinates>"
        "</LineString></Placemark></Document></kml>"
    )
    parsed = survey_file_parse(data=kml.encode(), filename="field.kml")
    assert sorted((f.kind, f.number) for f in parsed.features) == [("marker", "A-1"), ("track", "")]


def test_gpx_with_a_form_crs_other_than_wgs84_is_refused():
    with pytest.raises(InvalidUpload, match="always EPSG:4326"):
        survey_file_parse(data=GPX.encode(), filename="walk.gpx", crs="4545")


def gk(lon: float, lat: float, epsg: int) -> tuple[float, float]:
    return Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)


@pytest.mark.parametrize("epsg", [4524, 4545])  # CGCS2000 GK CM 108°E, with and without zone prefix
def test_csv_in_gauss_kruger_is_converted_to_wgs84(epsg):
    x, y = gk(LON, LAT, epsg)
    data = f"界桩编号,X,Y\n500103-A-1,{x:.3f},{y:.3f}\n".encode()
    parsed = survey_file_parse(data=data, filename="markers.csv", crs=f"EPSG:{epsg}")
    assert (parsed.crs, parsed.crs_source) == (epsg, "form")
    point = parsed.features[0].geometry
    assert (point.x, point.y) == (pytest.approx(LON, abs=1e-7), pytest.approx(LAT, abs=1e-7))
    assert parsed.features[0].number == "500103-A-1"


def test_csv_with_its_own_crs_column_and_cgcs2000():
    parsed = survey_file_parse(data=b"number,lon,lat,crs\nM1,106.55,29.56,EPSG:4490\n", filename="m.csv")
    assert (parsed.crs, parsed.crs_source) == (4490, "file")


def test_legacy_geojson_in_gauss_kruger_states_its_crs():
    x, y = gk(LON, LAT, 4545)
    data = (
        '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4545"}},'
        f'"features":[{{"type":"Feature","properties":{{"编号":"B-2"}},"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}]}}'
    ).encode()
    parsed = survey_file_parse(data=data, filename="m.geojson")
    assert (parsed.crs, parsed.crs_source) == (4545, "file")
    assert parsed.features[0].geometry.x == pytest.approx(LON, abs=1e-7)


def shapefile_zip(*, encoding: str, keep_cpg: bool, crs: str = "EPSG:4326") -> bytes:
    frame = geopandas.GeoDataFrame(
        {"编号": ["界桩-1"], "备注": ["完好"]}, geometry=[shapely.Point(LON, LAT)], crs="EPSG:4326"
    ).to_crs(crs)
    with tempfile.TemporaryDirectory() as tmp:
        frame.to_file(Path(tmp) / "m.shp", engine="pyogrio", encoding=encoding)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for part in Path(tmp).iterdir():
                if keep_cpg or part.suffix != ".cpg":
                    archive.write(part, part.name)
        return buffer.getvalue()


def test_zipped_shapefile_with_gbk_cpg_and_a_prj():
    parsed = survey_file_parse(data=shapefile_zip(encoding="GBK", keep_cpg=True, crs="EPSG:4545"), filename="m.zip")
    assert (parsed.crs, parsed.crs_source) == (4545, "file")
    assert parsed.features[0].number == "界桩-1"
    assert parsed.features[0].attributes["备注"] == "完好"
    assert parsed.features[0].geometry.x == pytest.approx(LON, abs=1e-7)


def test_gbk_without_cpg_is_read_when_the_form_states_the_encoding():
    parsed = survey_file_parse(data=shapefile_zip(encoding="GBK", keep_cpg=False), filename="m.zip", encoding="GBK")
    assert parsed.features[0].attributes["备注"] == "完好"


def test_geopackage():
    frame = geopandas.GeoDataFrame({"number": ["G-1"]}, geometry=[shapely.LineString(TRACK)], crs="EPSG:4490")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.gpkg"
        frame.to_file(path, driver="GPKG", engine="pyogrio")
        parsed = survey_file_parse(data=path.read_bytes(), filename="f.gpkg")
    assert (parsed.format, parsed.crs, parsed.crs_source) == ("geopackage", 4490, "file")
    assert parsed.features[0].kind == "track"


@pytest.mark.parametrize(("name", "features"), ACCEPTED)
def test_accepted_corpus_file(name, features):
    parsed = survey_file_parse(data=(CORPUS / name).read_bytes(), filename=name)
    assert len(parsed.features) == features


def test_a_geopackage_with_an_attribute_table_reads_its_features():
    parsed = survey_file_parse(data=(CORPUS / "attribute_table.gpkg").read_bytes(), filename="f.gpkg")
    assert (parsed.crs, parsed.crs_source) == (4490, "file")
    assert [(f.kind, f.number) for f in parsed.features] == [("marker", "G-1")]


# What reading one of these may cost at most: seconds from the call to the answer (measured 0.1-1 s
# alone; the bound leaves room for a shared 2-core machine and a cold forkserver) and the child's
# peak resident memory (measured about 100 MB, most of it the libraries it shares with its server).
QUICK_S, READER_RSS_MB = 10.0, 400


@pytest.mark.parametrize(
    ("name", "make"),
    [("kml_1000_folders.kml", None), ("recursive_view.gpkg", None)] + [(n, v[0]) for n, v in LARGE.items()],
)
def test_costly_files_are_refused_quickly_in_bounded_memory(name, make):
    data = make() if make else (CORPUS / name).read_bytes()
    start = time.monotonic()
    with pytest.raises(InvalidUpload) as refused:
        survey_file_parse(data=data, filename=name)
    assert time.monotonic() - start < QUICK_S
    assert refused.value.status == 400
    if name in LARGE:
        assert LARGE[name][3] in refused.value.message
    assert refused.value.reader_stats["peak_rss_mb"] < READER_RSS_MB


def test_reading_stops_at_the_feature_limit_plus_one():
    with pytest.raises(InvalidUpload, match=r"more than 10 features; the limit is 10$") as refused:
        survey_file_parse(data=csv_rows(300_000), filename="m.csv", limits=UploadLimits(max_features=10))
    assert refused.value.reader_stats["cpu_s"] < 1.5  # 300,000 rows read would take several seconds


def test_a_limit_hit_while_reading_answers_422_with_the_reason():
    data = csv_rows(10_000)
    with pytest.raises(LimitExceeded, match=r"longer than 0\.05 s") as slow:
        survey_file_parse(data=data, filename="m.csv", limits=UploadLimits(max_wall_seconds=0.05))
    assert slow.value.status == 422
    with pytest.raises(LimitExceeded, match="more than 1 MB of memory"):
        survey_file_parse(data=data, filename="m.csv", limits=UploadLimits(max_memory_bytes=1024 * 1024))
