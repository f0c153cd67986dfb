"""No connection leaves the service while it reads uploaded files (issue 11, finding 2).

A listener on 127.0.0.1 stands in for the host a file names: every corpus file that names a URL
names ``127.0.0.1:9`` and is given here with the listener's port. The first test shows the listener
sees GDAL fetch a GeoJSON ``crs`` link when nothing stops it (so the others would see one); then the
whole corpus is read as an upload is, and GDAL itself is handed what the checks before it refuse,
inside the sandbox: the listener sees no connection. No database.
"""

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest

from boundaries.surveys.parsing import InvalidUpload, survey_file_parse
from boundaries.surveys.sandbox import ChildLimits, sandbox_run
from tests.boundaries.surveys.corpus.make_corpus import LARGE, URL, WITH_URL
from tests.pure.test_survey_files import ACCEPTED, HOSTILE

CORPUS = Path(__file__).parent / "corpus"
LIMITS = ChildLimits(cpu_seconds=10, wall_seconds=20, memory_bytes=512 * 1024 * 1024, file_bytes=64 * 1024 * 1024)


class Listener:
    """Accepts connections on 127.0.0.1 and keeps the first line each one sends."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(1)
                try:
                    self.connections.append(connection.recv(4096).split(b"\r\n")[0] or b"(nothing sent)")
                except OSError:
                    self.connections.append(b"(nothing sent)")

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seen(self, wait_s: float = 0.3) -> list[bytes]:
        time.sleep(wait_s)  # a connection still on its way would show by then
        return self.connections


@pytest.fixture
def listener():
    listening = Listener()
    yield listening
    listening.server.close()


def aimed_at(listener: Listener, name: str, data: bytes) -> bytes:
    if name in WITH_URL:
        return WITH_URL[name](listener.url())
    return data.replace(URL.encode(), listener.url().encode())


def test_the_listener_sees_gdal_fetch_a_crs_link_when_nothing_stops_it(listener, tmp_path):
    import pyogrio  # GDAL in this test process: not hardened (that is done in the sandbox child only)

    path = tmp_path / "crs_link.geojson"
    path.write_bytes(aimed_at(listener, "crs_link.geojson", (CORPUS / "crs_link.geojson").read_bytes()))
    pyogrio.read_info(path)
    assert listener.seen() == [b"GET /crs.prj HTTP/1.1"]


def test_reading_the_whole_corpus_connects_nowhere(listener):
    files = {name: (CORPUS / name).read_bytes() for name, *_ in HOSTILE + ACCEPTED}
    files |= {name: make() for name, (make, *_) in LARGE.items()}
    aimed = {name: aimed_at(listener, name, data) for name, data in files.items()}
    assert sum(aimed[n] != files[n] for n in files) >= 7  # the files that name a URL name the listener's
    for name, data in aimed.items():
        crs = next((c for n, c, *_ in HOSTILE if n == name), None)
        with contextlib.suppress(InvalidUpload):
            survey_file_parse(data=data, filename=name, crs=crs)
    assert listener.seen() == []


def gdal_given_what_the_checks_refuse(*, files: dict[str, str], directory: str, remote: str) -> tuple[dict, bytes]:
    """In the sandbox child: GDAL opens files the checks before it would refuse, and a remote path."""
    from boundaries.surveys import ogr

    drivers = {".geojson": "GeoJSON", ".kml": "KML", ".gpx": "GPX"}
    outcomes = {}
    for name, text in [*files.items(), (remote, None)]:
        path = Path(directory) / name if text is not None else remote
        if text is not None:
            path.write_text(text)
        try:
            ogr.ogr_read(path, driver=drivers[Path(name).suffix], max_layers=20, max_features=10, max_vertices=100)
            outcomes[name] = "read"
        except ogr.UnreadableFile as exc:
            outcomes[name] = str(exc)
    return {"outcomes": outcomes, "drivers": ogr.gdal_drivers()}, b""


def test_gdal_in_the_sandbox_fetches_nothing_a_file_names(listener, tmp_path):
    names = ["crs_link.geojson", "crs_name_url.geojson", "crs_on_geometry.geojson", "network_link.kml", "link_only.gpx"]
    files = {n: aimed_at(listener, n, (CORPUS / n).read_bytes()).decode() for n in names}
    result = sandbox_run(
        gdal_given_what_the_checks_refuse,
        kwargs={"files": files, "directory": str(tmp_path), "remote": f"/vsicurl/{listener.url()}/remote.geojson"},
        limits=LIMITS,
        refusals={},
    )
    assert listener.seen() == []
    assert sorted(result.header["drivers"]) == ["ESRI Shapefile", "GPKG", "GPX", "GeoJSON", "KML"]
    assert result.header["outcomes"]["crs_link.geojson"] == "read"  # read, with the link refused
    assert f"{listener.url()}/crs.prj" in result.stats["blocked_requests"]
    assert "does not exist" in result.header["outcomes"][f"/vsicurl/{listener.url()}/remote.geojson"]
