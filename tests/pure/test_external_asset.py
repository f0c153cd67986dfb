"""The tests' check for assets from another host (``tests.helpers.EXTERNAL_ASSET``) can fail: it finds
a script or stylesheet loaded from a CDN, and not the word in a nonce or a local path."""

import pytest

from tests.helpers import EXTERNAL_ASSET


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js"></script>',
        "<link rel='stylesheet' href='//unpkg.com/leaflet/dist/leaflet.css'>",
        "<SCRIPT defer SRC=http://example.org/app.js></SCRIPT>",
    ],
)
def test_an_asset_from_another_host_is_found(html):
    assert EXTERNAL_ASSET.search(html)


@pytest.mark.parametrize(
    "html",
    [
        '<script nonce="Xacdng==" src="/static/leaflet/leaflet.js"></script>',
        '<link rel="stylesheet" href="/static/cdn/vendored.css">',
        '<a href="https://www.mca.gov.cn/">民政部</a>',
    ],
)
def test_a_local_asset_or_a_link_is_not(html):
    assert not EXTERNAL_ASSET.search(html)
