"""The divisions admin: a Leaflet map widget from vendored files, and geometry edits that keep
the point-in-polygon pieces in step."""

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Polygon

from boundaries.models import Division, DivisionPiece
from boundaries.selectors import division_locate
from gis_portal.core.crs import WGS84
from tests.boundaries.queries import row
from tests.helpers import EXTERNAL_ASSET

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw-for-tests-only"))
    return client


def test_change_page_has_a_leaflet_widget_without_cdn(admin_client):
    division = Division.objects.get(code="500103")
    page = admin_client.get(f"/admin/boundaries/division/{division.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "leaflet/leaflet.js" in html
    assert not EXTERNAL_ASSET.search(html)


def test_pieces_cover_each_division_exactly():
    # Planar areas: cutting a long edge adds a vertex, which changes its geodesic but not the tiling.
    worst = row(
        """
        SELECT max(abs(ST_Area(d.geom) - p.area) / ST_Area(d.geom)) AS relative_error,
               max(p.vertices) AS most_vertices
          FROM {division} d
          JOIN (SELECT division_id, sum(ST_Area(geom)) AS area, max(ST_NPoints(geom)) AS vertices
                  FROM {piece} GROUP BY division_id) p ON p.division_id = d.id
        """
    )
    assert worst["relative_error"] < 1e-9
    assert worst["most_vertices"] <= DivisionPiece.MAX_VERTICES
    assert DivisionPiece.objects.values("division").distinct().count() == 1 + 38 + 1031


def test_editing_a_township_polygon_in_the_admin_moves_locate(admin_client):
    # Redraw 解放碑街道 as a small square around a point of 七星岗街道 next door.
    target = Division.objects.get(code="500103003")
    neighbour_point = Division.objects.get(code="500103001").point
    assert division_locate(lon=neighbour_point.x, lat=neighbour_point.y)["township"]["code"] == "500103001"
    x, y = neighbour_point.x, neighbour_point.y
    square = MultiPolygon(Polygon.from_bbox((x - 0.0005, y - 0.0005, x + 0.0005, y + 0.0005)), srid=WGS84)
    form = {
        "code": target.code,
        "name": target.name,
        "level": target.level,
        "kind": target.kind,
        "parent": target.parent_id,
        "cluster": target.cluster_id,
        "geom": square.geojson,
        "point": target.point.geojson,
        "population": "",
        "elderly_population": "",
        "is_synthetic": "on",
        "source": target.source,
        "source_datum": target.source_datum,
    }
    response = admin_client.post(f"/admin/boundaries/division/{target.id}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    # Both polygons now cover the point; the lower code wins, so check the pieces directly.
    assert DivisionPiece.objects.filter(division=target, geom__covers=neighbour_point).exists()
