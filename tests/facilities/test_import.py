"""Import of facilities from CSV, GeoJSON and GeoPackage: derived divisions, datum, atomicity."""

import io
import json

import geopandas
import prcoords
import pytest
import shapely
from django.core.management import CommandError, call_command
from pyproj import Geod

from facilities.models import Facility
from facilities.services import facilities_import
from gis_portal.core.errors import InvalidData

pytestmark = pytest.mark.django_db

HEADER = "name,category,operator,beds,status,address,opening_date,lon,lat\n"


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_derives_divisions(scene, tmp_path):
    path = write(
        tmp_path,
        "ok.csv",
        HEADER + "测试公墓,cemetery,public,,open,测试镇,2015-03-01,105.15,27.72\n"
        "测试养老院,elder_institution,private,120,planned,,,105.05,27.7\n",
    )
    report = facilities_import(path=path)
    assert report.created == 2
    cemetery = Facility.objects.get(name="测试公墓")
    assert (cemetery.division_id, cemetery.district_id, cemetery.village_id) == (
        scene.town.id,
        scene.district.id,
        scene.v.id,
    )
    assert str(cemetery.opening_date) == "2015-03-01" and cemetery.source == "ok.csv"
    home = Facility.objects.get(name="测试养老院")
    assert (home.beds, home.status, home.division_id) == (120, "planned", scene.street.id)
    # Idempotent with --replace: the same file again replaces, not duplicates.
    call_command("import_facilities", str(path), "--replace", stdout=io.StringIO())
    assert Facility.objects.filter(source="ok.csv").count() == 2


def test_bad_rows_are_reported_with_their_line_and_nothing_is_written(scene, tmp_path):
    before = Facility.objects.count()
    path = write(
        tmp_path,
        "bad.csv",
        HEADER + "好的,cemetery,public,,open,,,105.15,27.72\n"  # line 2
        "坏类别,hospital,public,,open,,,105.15,27.72\n"  # line 3
        "坏坐标,cemetery,public,,open,,,27.72,105.15\n"  # line 4: swapped axes
        "坏床位,elder_institution,public,many,open,,,105.15,27.72\n",  # line 5
    )
    with pytest.raises(InvalidData) as error:
        facilities_import(path=path)
    message = str(error.value.message)
    assert "3 bad record(s)" in message
    assert "line 3: category 'hospital'" in message and "line 4:" in message and "line 5: beds" in message
    assert "line 2" not in message
    assert Facility.objects.count() == before
    with pytest.raises(CommandError, match="line 3"):
        call_command("import_facilities", str(path))


def test_point_outside_the_divisions_is_rejected(scene, tmp_path):
    path = write(tmp_path, "outside.csv", HEADER + "在外面,cemetery,public,,open,,,105.5,27.9\n")
    with pytest.raises(InvalidData, match="line 2: the point is outside Chongqing"):
        facilities_import(path=path)
    assert not Facility.objects.filter(name="在外面").exists()


def test_gcj02_points_are_rectified(scene, tmp_path):
    lon, lat = 105.15, 27.72
    path = write(tmp_path, "gcj.csv", "name,category,lon,lat,datum\n火星公墓,cemetery,105.15,27.72,GCJ-02\n")
    facilities_import(path=path)
    stored = Facility.objects.get(name="火星公墓").point
    expected = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
    assert (stored.x, stored.y) == pytest.approx((expected.lon, expected.lat), abs=1e-7)
    shift = Geod(ellps="WGS84").inv(lon, lat, stored.x, stored.y)[2]
    assert 100 < shift < 700  # the GCJ-02 offset is hundreds of metres


def test_geojson_import(scene, tmp_path):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.15, 27.72]},
             "properties": {"name": "GeoJSON公墓", "category": "cemetery"}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[105.1, 27.7], [105.2, 27.8]]},
             "properties": {"name": "线", "category": "cemetery"}},
        ],
    }  # fmt: skip
    path = write(tmp_path, "f.geojson", json.dumps(collection))
    with pytest.raises(InvalidData, match="feature 2"):
        facilities_import(path=path)
    collection["features"].pop()
    path.write_text(json.dumps(collection), encoding="utf-8")
    assert facilities_import(path=path).created == 1


def test_geopackage_import_reprojects(scene, tmp_path):
    # CGCS2000 Gauss-Krüger 3-degree zone 33 (EPSG:4521, central meridian 99°E) coordinates.
    frame = geopandas.GeoDataFrame(
        {"name": ["GPKG公墓"], "category": ["cemetery"], "beds": [None]},
        geometry=[shapely.Point(105.15, 27.72)],
        crs=4326,
    ).to_crs(4521)
    path = tmp_path / "f.gpkg"
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    assert facilities_import(path=path).created == 1
    stored = Facility.objects.get(name="GPKG公墓")
    assert (stored.point.x, stored.point.y) == pytest.approx((105.15, 27.72), abs=1e-7)
    assert stored.division_id == scene.town.id


def test_unknown_file_type(tmp_path):
    with pytest.raises(InvalidData, match="unsupported"):
        facilities_import(path=write(tmp_path, "f.txt", "x"))
