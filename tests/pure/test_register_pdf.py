"""The printed register's groundwork (placenames.register_pdf): the SVG district map, and a real PDF
made by WeasyPrint whose text layer holds the Chinese names (pdftotext), whose font is embedded
(pdffonts) and whose first page shows the map (pdftoppm, kept in tests/artifacts/). No database.

The PDF tools come from poppler-utils and the font from fonts-noto-cjk; ``scripts/setup.sh test``
installs both."""

import shutil
import subprocess
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import fromstring
from PIL import Image

from gis_portal.core.geo import read_geojson_features, to_wgs84
from placenames.register_pdf import MAP_FOCUS_FILL, REGISTER_FONT_FAMILY, district_map_svg, pdf_from_html

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SVG = "{http://www.w3.org/2000/svg}"

# A one-degree square at 29.5° N: the map should draw it cos(29.5°) ≈ 0.87 times as wide as high.
SQUARE = {
    "properties": {"name": "方块"},
    "geometry": {"type": "Polygon", "coordinates": [[[106, 29], [107, 29], [107, 30], [106, 30], [106, 29]]]},
}


def _path_extent(path: Element) -> tuple[float, float, float, float]:
    points = [tuple(map(float, p.split(","))) for p in path.get("d").strip("MZ").replace("ZM", "L").split("L")]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def test_map_svg_projects_with_the_cosine_of_latitude_and_labels_the_shapes():
    svg = fromstring(district_map_svg(features=[SQUARE], width=400, height=400, padding=0))
    [path] = svg.iter(f"{SVG}path")
    min_x, min_y, max_x, max_y = _path_extent(path)
    assert (min_y, max_y) == (0, 400)
    assert (max_x - min_x) / (max_y - min_y) == pytest.approx(0.870, abs=0.002)
    assert [t.text for t in svg.iter(f"{SVG}text")] == ["方块"]


def test_map_svg_fits_the_focus_and_escapes_names():
    hole = {
        "properties": {"name": "<甲&乙>"},
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": [[[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]],
        },
    }
    far = {"properties": {"name": "远处"}, "geometry": SQUARE["geometry"]}
    svg = fromstring(district_map_svg(features=[hole, far], focus="<甲&乙>"))
    paths = list(svg.iter(f"{SVG}path"))
    assert paths[0].get("fill") == MAP_FOCUS_FILL and paths[0].get("fill-rule") == "evenodd"
    assert [t.text for t in svg.iter(f"{SVG}text")] == ["<甲&乙>"]  # 远处 lies wholly outside the frame
    with pytest.raises(ValueError, match="no feature is named"):
        district_map_svg(features=[hole], focus="丙")


def _yuzhong_map() -> str:
    """渝中区 and the districts around it, from the real boundaries (GCJ-02 in the fixture)."""
    wanted = {"渝中区", "江北区", "南岸区", "沙坪坝区", "九龙坡区", "大渡口区"}
    features = [
        {"properties": {"name": props["name"]}, "geometry": to_wgs84(geom, datum="GCJ-02").__geo_interface__}
        for props, geom in read_geojson_features(ROOT / "fixtures" / "chongqing" / "districts.gcj02.geojson")
        if props.get("name") in wanted
    ]
    assert {f["properties"]["name"] for f in features} == wanted
    return district_map_svg(features=features, focus="渝中区", width=520, height=360, title="渝中区")


def _run(*command: str) -> str:
    tool = shutil.which(command[0])
    assert tool, f"{command[0]} is missing: run scripts/setup.sh test (it installs poppler-utils)"
    return subprocess.run([tool, *command[1:]], check=True, capture_output=True, text=True).stdout


def test_register_pdf_holds_the_chinese_names_an_embedded_font_and_the_map():
    html = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><style>
  @page {{ size: A4; margin: 18mm; }}
  body {{ font-family: {REGISTER_FONT_FAMILY}; font-size: 11pt; }}
  h1 {{ font-size: 20pt; margin: 0 0 4mm; }}
  .map svg {{ width: 100%; height: auto; }}
</style></head><body>
  <h1>渝中区 <small>Yuzhong Qu</small></h1>
  <div class="map">{_yuzhong_map()}</div>
  <h2>街道</h2>  <!-- code from fixtures/chongqing/divisions.csv -->
  <ul><li>解放碑街道 Jiefangbei Jiedao 500103003</li></ul>
</body></html>"""
    pdf = pdf_from_html(html=html)
    assert pdf.startswith(b"%PDF-")

    ARTIFACTS.mkdir(exist_ok=True)
    pdf_path = ARTIFACTS / "register_yuzhong.pdf"
    pdf_path.write_bytes(pdf)
    text = _run("pdftotext", "-enc", "UTF-8", str(pdf_path), "-")
    assert "渝中区" in text
    assert "解放碑街道" in text

    fonts = _run("pdffonts", str(pdf_path)).splitlines()[2:]
    cjk = [line for line in fonts if "NotoSansCJK" in line.replace("-", "")]
    assert cjk, f"Noto Sans CJK is not in the PDF: {fonts}"
    assert all(line.split()[-5] == "yes" for line in cjk), "the CJK font is not embedded"  # the 'emb' column

    _run(
        "pdftoppm",
        "-png",
        "-r",
        "60",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        str(pdf_path),
        str(ARTIFACTS / "register_yuzhong_p1"),
    )
    page = Image.open(ARTIFACTS / "register_yuzhong_p1.png").convert("RGB")
    focus_rgb = tuple(int(MAP_FOCUS_FILL[i : i + 2], 16) for i in (1, 3, 5))
    map_pixels = sum(
        count
        for count, rgb in page.getcolors(page.width * page.height)
        if max(abs(a - b) for a, b in zip(rgb, focus_rgb, strict=True)) <= 6
    )
    # 渝中区's fill covers a visible share of the page (the map is drawn, not just its labels).
    assert map_pixels > 0.01 * page.width * page.height
