"""Real GIS clients against the portal served over HTTP: GDAL's OAPIF driver (the ``ogr2ogr``
command) reads whole collections and sends CQL2 filters, OWSLib lists collections and pages
through items, and the GeoPackage and Shapefile downloads open in GDAL with every feature and
the Chinese names intact."""

import io
import subprocess
import urllib.request
import zipfile

import pyogrio
import pytest
from django.contrib.gis.geos import Polygon
from owslib.ogcapi.features import Features

from boundaries.models import BoundaryLine, Division, Marker
from facilities.models import Facility
from facilities.selectors import coverage_gaps
from placenames.models import PlaceName
from tests.helpers import assert_error

V1_DIVISION_FIELDS = {
    "code",
    "name",
    "level",
    "kind",
    "cluster",
    "parent_code",
    "area_m2",
    "population",
    "elderly_population",
    "is_synthetic",
    "source",
    "source_datum",
}
V1_FACILITY_FIELDS = {
    "name",
    "category",
    "operator",
    "beds",
    "status",
    "address",
    "opening_date",
    "township_code",
    "township",
    "district_code",
    "district",
    "village_code",
    "is_synthetic",
    "source",
}


def ogr2ogr(server: str, collection: str, target, *options: str) -> None:
    """Copy a collection through GDAL's OAPIF driver (1,000 features a request) into a GeoPackage."""
    command = ["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{server}/ogc/", collection, "-oo", "PAGE_SIZE=1000"]
    done = subprocess.run([*command, *options], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("collection", "level", "fields"),
    [("townships", "township", V1_DIVISION_FIELDS), ("villages", "village", V1_DIVISION_FIELDS)],
)
def test_gdal_reads_divisions_whole(portal_server, tmp_path, collection, level, fields):
    target = tmp_path / f"{collection}.gpkg"
    ogr2ogr(portal_server, collection, target)
    info = pyogrio.read_info(target)
    expected = Division.objects.filter(level=level).count()
    assert info["features"] == expected == {"township": 1031, "village": 11270}[level]
    assert fields <= set(info["fields"])
    frame = pyogrio.read_dataframe(target, columns=["code", "name"])
    assert frame["code"].is_unique
    some = Division.objects.filter(level=level).order_by("code").first()
    assert frame.set_index("code").loc[some.code, "name"] == some.name


def test_gdal_reads_facilities_whole_and_filters_on_the_server(portal_server, tmp_path):
    whole = tmp_path / "facilities.gpkg"
    ogr2ogr(portal_server, "facilities", whole)
    info = pyogrio.read_info(whole)
    assert info["features"] == Facility.objects.count() == 16029
    assert set(info["fields"]) >= V1_FACILITY_FIELDS

    # An attribute filter: GDAL sends it as CQL2 text (filter-lang from /ogc/api).
    funeral = tmp_path / "funeral.gpkg"
    ogr2ogr(portal_server, "facilities", funeral, "-where", "category = 'funeral_home' OR name LIKE '%公墓'")
    expected = (
        Facility.objects.filter(category="funeral_home").count()
        + Facility.objects.filter(name__endswith="公墓").exclude(category="funeral_home").count()
    )
    assert pyogrio.read_info(funeral)["features"] == expected > 0

    # A spatial filter: GDAL sends it as bbox.
    box = (106.4, 29.4, 106.7, 29.7)
    inside = tmp_path / "inside.gpkg"
    ogr2ogr(portal_server, "facilities", inside, "-spat", *map(str, box))
    expected = Facility.objects.filter(point__intersects=Polygon.from_bbox(box)).count()
    assert pyogrio.read_info(inside)["features"] == expected > 100


def test_owslib_lists_collections_and_pages_through_items(portal_server):
    api = Features(f"{portal_server}/ogc/")
    ids = [c["id"] for c in api.collections()["collections"]]
    assert {"townships", "villages", "facilities", "placenames", "boundary-lines", "markers"} <= set(ids)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    first = api.collection_items("townships", limit=600)
    second = api.collection_items("townships", limit=600, offset=600)
    codes = [f["id"] for f in first["features"]] + [f["id"] for f in second["features"]]
    assert first["numberMatched"] == 1031 and len(codes) == len(set(codes)) == 1031
    assert api.collection_item("townships", codes[0])["properties"]["code"] == codes[0]


def _download(server: str, collection: str, fmt: str) -> bytes:
    with urllib.request.urlopen(f"{server}/ogc/collections/{collection}/download?f={fmt}", timeout=300) as response:  # noqa: S310
        assert response.status == 200
        return response.read()


def test_geopackage_and_shapefile_downloads_are_whole_with_chinese_names(portal_server, tmp_path):
    gpkg = tmp_path / "townships.gpkg"
    gpkg.write_bytes(_download(portal_server, "townships", "gpkg"))
    frame = pyogrio.read_dataframe(gpkg)
    assert len(frame) == 1031
    expected = dict(Division.objects.filter(level="township").values_list("code", "name"))
    assert dict(zip(frame["code"], frame["name"], strict=True)) == expected
    assert frame.crs.to_epsg() == 4326

    archive = zipfile.ZipFile(io.BytesIO(_download(portal_server, "placenames", "shp")))
    names = archive.namelist()
    assert {n.rsplit(".", 1)[1] for n in names} >= {"shp", "shx", "dbf", "prj", "cpg"}
    cpg = next(n for n in names if n.endswith(".cpg"))
    assert archive.read(cpg).decode().strip().upper() in ("UTF-8", "UTF8")
    archive.extractall(tmp_path / "shp")
    shp = next((tmp_path / "shp").glob("*.shp"))
    frame = pyogrio.read_dataframe(shp)
    assert len(frame) == PlaceName.objects.count()
    assert set(frame["name"]) == set(PlaceName.objects.values_list("name", flat=True))
    assert "渝中区" in set(frame["name"])


def test_downloads_of_a_district_or_a_cluster(portal_server, tmp_path):
    gpkg = tmp_path / "facilities.gpkg"
    gpkg.write_bytes(_download(portal_server, "facilities", "gpkg&district_code=500103"))
    frame = pyogrio.read_dataframe(gpkg)
    expected = Facility.objects.filter(district__code="500103")
    assert len(frame) == expected.count() > 0
    assert set(frame["name"]) == set(expected.values_list("name", flat=True))

    archive = zipfile.ZipFile(io.BytesIO(_download(portal_server, "townships", "shp&cluster=se_wuling")))
    archive.extractall(tmp_path / "shp")
    frame = pyogrio.read_dataframe(next((tmp_path / "shp").glob("*.shp")))
    assert len(frame) == Division.objects.filter(level="township", cluster="se_wuling").count() > 0


@pytest.mark.django_db
def test_bad_download_requests_are_400_or_404(client):
    assert_error(client.get("/ogc/collections/facilities/download", {"f": "xls"}), 400)
    assert_error(client.get("/ogc/collections/facilities/download", {"f": "gpkg", "crs": "x"}), 400)
    assert_error(client.get("/ogc/collections/facilities/download", {"f": "gpkg", "colour": "red"}), 400)
    assert_error(client.get("/ogc/collections/rivers/download", {"f": "gpkg"}), 404, "not_found")


@pytest.mark.django_db
def test_the_map_and_the_collections_page_link_the_downloads(client):
    assert 'href="/ogc/collections?f=html"' in client.get("/").content.decode()
    page = client.get("/ogc/collections", {"f": "html"}).content.decode()
    for collection in ("townships", "villages", "facilities", "placenames", "boundary-lines", "markers"):
        assert f"/ogc/collections/{collection}/download?f=gpkg" in page
        assert f"/ogc/collections/{collection}/download?f=shp" in page


def test_gdal_reads_the_other_collections_whole(portal_server, tmp_path):
    expected = {
        "districts": Division.objects.filter(level="district").count(),
        "placenames": PlaceName.objects.count(),
        "boundary-lines": BoundaryLine.objects.count(),
        "markers": Marker.objects.count(),
        "coverage-gaps-funeral_home-presence": coverage_gaps(category="funeral_home", kind="presence")[
            "total_uncovered"
        ],
    }
    for collection, count in expected.items():
        target = tmp_path / f"{collection}.gpkg"
        ogr2ogr(portal_server, collection, target, "-nln", "layer")
        assert pyogrio.read_info(target, layer="layer")["features"] == count > 0, collection


def test_gdal_with_its_default_page_of_ten_reads_townships_whole(portal_server, tmp_path):
    """Without PAGE_SIZE GDAL 3.6 asks 10 features at a time: 104 requests, within the OGC rate."""
    target = tmp_path / "townships.gpkg"
    command = ["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{portal_server}/ogc/", "townships"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert pyogrio.read_info(target)["features"] == 1031
