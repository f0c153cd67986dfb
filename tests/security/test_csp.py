"""The Content-Security-Policy (issue 11, finding 1): every HTML page sends it, scripts only from this
origin (a nonce only where the admin's map widget needs one, never 'unsafe-inline' or 'unsafe-eval'),
and every page works under it in Chromium: no violation reported, no console or page error.
The pages show the hostile data of ``conftest.hostile`` while they are checked."""

import pytest
from django.contrib.auth.models import User

from gis_portal.portal.settings import csp_tile_source

from .conftest import LINE, sign_in

pytestmark = pytest.mark.django_db

# Each page: its path, who looks at it, and what shows that it has finished drawing.
PAGES = {
    "map": ("/", None, "#map[data-loaded='38']"),
    "inspections": ("/inspections/", None, "#lines-map[data-markers]"),
    "line": (f"/inspections/lines/{LINE}/", None, "#lines-map[data-lines='1']"),
    "lookup": ("/placenames/?q=jiefangbei", None, "#placename-map[data-selected]"),
    "placename": ("/placenames/{placename}/", None, ".placename-tooltip"),
    "register": ("/placenames/register/500103/", None, "table tbody tr"),
    "naming-suggest": ("/placenames/naming/suggest/", None, "#office-map.leaflet-container"),
    "naming-notices": ("/placenames/naming/notices/", None, "h2"),
    "signs": ("/placenames/signs/", None, "#office-map[data-signs]"),
    "heritage": ("/placenames/heritage/", None, "#heritage-list li"),
    "coverage": ("/coverage/", None, "#map[data-coverage='elder_station']"),
    "surveys": ("/surveys/", "surveyor", "form.upload-form"),
    "survey-report": ("/surveys/{upload}/", "reviewer", "#report-map[data-loaded]"),
    "login": ("/accounts/login/", None, "input[name=username]"),
    "accounts": ("/accounts/manage/", "admin", "table.accounts-table"),
    "audit": ("/accounts/audit/", "admin", "table.audit-table"),
    "password-change": ("/accounts/password_change/", "admin", "input[name=new_password1]"),
    "admin": ("/admin/", "admin", "#content-main"),
    "admin-facility": (
        "/admin/facilities/facility/{facility}/change/",
        "admin",
        ".leaflet-container .leaflet-tile-pane",
    ),
    "admin-placename": (
        "/admin/placenames/placename/{placename}/change/",
        "admin",
        ".leaflet-container .leaflet-tile-pane",
    ),
    "api-docs": ("/api/v1/docs/", None, ".swagger-ui .opblock"),
    "not-found": ("/no-such-page/", None, "section.message"),
}


def page_url(key: str, hostile) -> str:
    path = PAGES[key][0]
    return path.format(placename=hostile.jiefangbei.pk, upload=hostile.upload.pk, facility=hostile.facilities[0].pk)


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_policy(header: str | None, *, nonce_allowed: bool = False) -> None:
    assert header, "no Content-Security-Policy header"
    policy = directives(header)
    scripts = policy["script-src"]
    assert "'self'" in scripts
    for source in scripts:
        assert source == "'self'" or (nonce_allowed and source.startswith("'nonce-")), scripts
    for name in ("default-src", "script-src", "style-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(policy[name]), (name, policy[name])
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert {"'self'", "data:"} <= set(policy["img-src"])


@pytest.mark.parametrize("key", PAGES)
def test_every_page_sends_the_policy(client, hostile, key):
    _, role, _ = PAGES[key]
    if role:
        client.force_login(User.objects.get(username=hostile.users[role]))
    response = client.get(page_url(key, hostile))
    assert response.status_code == (404 if key == "not-found" else 200), response.status_code
    assert response["Content-Type"].startswith("text/html")
    header = response.get("Content-Security-Policy")
    assert_policy(header, nonce_allowed=key.startswith("admin-"))
    if key.startswith("admin-"):
        # The map widget's inline set-up carries the nonce of this response's header.
        nonce = next(s for s in directives(header)["script-src"] if s.startswith("'nonce-"))[7:-1]
        assert f'<script nonce="{nonce}">' in response.content.decode()
    else:
        assert "<script>" not in response.content.decode()  # no inline script
        assert "nonce-" not in header


def test_the_basemap_host_is_allowed_for_images(settings):
    assert csp_tile_source("") == []
    assert csp_tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == ["https://tile.openstreetmap.org"]
    assert csp_tile_source("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png") == ["https://*.tile.openstreetmap.org"]
    tianditu = "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY"
    assert csp_tile_source(tianditu) == ["https://*.tianditu.gov.cn"]
    # As configured (no basemap in the tests): images from this origin and data: URIs only.
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] == ["'self'", "data:"]


@pytest.mark.browser
@pytest.mark.parametrize("key", PAGES)
def test_every_page_works_under_the_policy(page, portal_server, hostile, key):
    _, role, ready = PAGES[key]
    page.add_init_script(
        """window.__cspViolations = [];
        document.addEventListener("securitypolicyviolation",
          (e) => window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));"""
    )
    missing = []  # 404s the browser reports as console errors
    page.on("response", lambda r: r.status == 404 and missing.append(r.url))
    page.on(
        "console", lambda m: m.location.get("url", "").endswith("/favicon.ico") and missing.append(m.location["url"])
    )
    if role:
        sign_in(page, portal_server, hostile.users[role])
    response = page.goto(portal_server + page_url(key, hostile))
    assert_policy(response.headers.get("content-security-policy"), nonce_allowed=key.startswith("admin-"))
    page.wait_for_selector(ready, state="attached", timeout=30_000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__cspViolations") == []
    # The browser reports a 404 as a console error: the 404 page's own, and the admin's favicon.ico
    # (the admin's pages name no icon, so Chromium asks for one).
    expected = {portal_server + "/no-such-page/", portal_server + "/favicon.ico"}
    assert set(missing) <= expected, missing
    if missing:
        page.errors = [e for e in page.errors if "status of 404" not in e]
    assert page.errors == []
