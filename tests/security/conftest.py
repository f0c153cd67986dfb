"""Hostile text in the database, committed so that the browser's server sees it, and gone afterwards.

The tests of this package look at the pages through ``portal_server``, whose thread has its own
database connection and sees only committed rows, while each test runs inside the ``db`` fixture's
transaction. ``hostile`` therefore writes through a thread of its own (a separate connection in
autocommit): it puts script payloads into existing rows around 解放碑 (district, township and
community names, place names and their variants, facility names and addresses), into a county line
(its name, its markers' numbers, inspection findings, problems, its teams), the urban-core cluster,
the worst coverage gaps of community elder-care stations and that category's coverage standard;
it creates users, and a survey upload with hostile marker numbers and a hostile file name through
the API. At the end it restores every changed value and deletes every row it (or the server, for
those users) created, without touching the rest of the loaded data.
"""

from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from boundaries.models import BoundaryLine, BoundaryProblem, Cluster, Division, Inspection, Marker, SurveyTeam
from boundaries.surveys.models import SurveyUpload
from facilities.models import CoverageStandard, Facility
from facilities.selectors import coverage_gaps
from gis_portal.core.roles import REVIEWER, SURVEYOR
from placenames.models import PlaceName, PlaceNameVariant
from tests.helpers import cache_clear_own, committed

IMG = "<img src=x onerror=window.__xss=1>"
SCRIPT = "<script>window.__xss=1</script>"
BOTH = IMG + SCRIPT
JIEFANGBEI = Point(106.5767, 29.5575, srid=4326)  # 解放碑, 渝中区
LINE = "500101-500154"  # 万州区—开州区, a real county line with markers and teams
PASSWORD = "hostile-pages-Pa55word"  # a test user's
GAP_CATEGORY = "elder_station"


def with_payload(text: str, payload: str, limit: int) -> str:
    """``text`` followed by ``payload``, shortened in front of the payload to fit ``limit`` characters."""
    return text[: max(0, limit - len(payload))] + payload


@dataclass
class Hostile:
    """What was made hostile, for the tests to find it on the pages."""

    district: Division = None  # 渝中区, named ...IMG
    neighbour: Division = None  # 江北区, named ...SCRIPT
    townships: list = field(default_factory=list)
    villages: list = field(default_factory=list)
    cluster: Cluster = None
    placenames: list = field(default_factory=list)
    jiefangbei: PlaceName = None
    facilities: list = field(default_factory=list)
    line: BoundaryLine = None
    markers: list = field(default_factory=list)
    gaps: list = field(default_factory=list)  # the worst coverage gaps, as the API gives them
    standard: CoverageStandard = None
    upload: SurveyUpload = None
    users: dict = field(default_factory=dict)  # role -> username
    _restore: list = field(default_factory=list)  # (model, pk, {field: original value})

    def poison(self, obj, **values):
        """Set fields of ``obj`` with an UPDATE (no signals, no history), remembering their values."""
        model = type(obj)
        self._restore.append((model, obj.pk, {name: getattr(obj, name) for name in values}))
        model.objects.filter(pk=obj.pk).update(**values)
        for name, value in values.items():
            setattr(obj, name, value)
        return obj


def _geojson_markers(points: list[tuple[float, float]], numbers: list[str]) -> bytes:
    import json

    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": {"number": n}}
        for (lon, lat), n in zip(points, numbers, strict=True)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _make_hostile(hostile: Hostile, media_root) -> None:
    # Divisions: the district, a neighbour, the townships and communities around 解放碑.
    hostile.district = hostile.poison(Division.objects.get(level="district", name="渝中区"), name="渝中区" + IMG)
    hostile.neighbour = hostile.poison(Division.objects.get(level="district", name="江北区"), name="江北区" + SCRIPT)
    for i, township in enumerate(Division.objects.filter(level="township", geom__contains=JIEFANGBEI)):
        hostile.townships.append(hostile.poison(township, name=with_payload(township.name, (IMG, SCRIPT)[i % 2], 64)))
    nearby = Division.objects.filter(level="village", point__distance_lte=(JIEFANGBEI, D(m=3000))).order_by("code")
    for i, village in enumerate(nearby):
        hostile.villages.append(hostile.poison(village, name=with_payload(village.name, (IMG, SCRIPT)[i % 2], 64)))
    hostile.cluster = hostile.poison(Cluster.objects.get(slug="urban_core"), name="主城都市区" + SCRIPT)

    # Place names around 解放碑 (the street's own among them) and their variants.
    places = (
        PlaceName.objects.filter(point__distance_lte=(JIEFANGBEI, D(m=3000)))
        | PlaceName.objects.filter(name="解放碑街道")
    ).order_by("id")
    for i, place in enumerate(places):
        hostile.placenames.append(
            hostile.poison(
                place,
                name=with_payload(place.name, (IMG, SCRIPT)[i % 2], 64),
                specific=with_payload(place.specific, (SCRIPT, IMG)[i % 2], 64),
                meaning=BOTH,
                history_text=BOTH + "\n" + BOTH,
                approval_ref=BOTH,
            )
        )
        for variant in PlaceNameVariant.objects.filter(placename=place):
            hostile.poison(variant, name=with_payload(variant.name, BOTH, 160))
    hostile.jiefangbei = next(p for p in hostile.placenames if p.name.startswith("解放碑街道"))

    # Facilities around 解放碑 (map popups).
    for facility in Facility.objects.filter(point__distance_lte=(JIEFANGBEI, D(m=3000))).order_by("id"):
        hostile.facilities.append(hostile.poison(facility, name=with_payload(facility.name, BOTH, 128), address=BOTH))

    # A county line: its name, its markers' numbers, findings, problems and teams.
    line = BoundaryLine.objects.get(code=LINE)
    hostile.line = hostile.poison(line, name=with_payload(line.name, BOTH, 128))
    for i, marker in enumerate(Marker.objects.filter(line=line).order_by("sequence")):
        hostile.markers.append(hostile.poison(marker, number=f"{(IMG, SCRIPT)[i % 2]}{marker.pk}"))
    for inspection in Inspection.objects.filter(line=line):
        hostile.poison(inspection, findings=BOTH)
    for problem in BoundaryProblem.objects.filter(line=line):
        hostile.poison(problem, description=BOTH)
    for team in SurveyTeam.objects.filter(lines=line):
        hostile.poison(team, name=with_payload(team.name, IMG, 128))

    # The worst coverage gaps (names of communities and villages) and the standard's text.
    worst = coverage_gaps(category=GAP_CATEGORY, limit=5)["features"]
    by_code = {d.code: d for d in Division.objects.filter(code__in=[f["properties"]["code"] for f in worst])}
    for i, feature in enumerate(worst):
        division = by_code[feature["properties"]["code"]]
        if division.name.endswith((IMG, SCRIPT)):
            continue  # already hostile (near 解放碑)
        hostile.poison(division, name=with_payload(division.name, (SCRIPT, IMG)[i % 2], 64))
    hostile.gaps = coverage_gaps(category=GAP_CATEGORY, limit=5)["features"]
    standard = CoverageStandard.objects.get(category=GAP_CATEGORY, active=True)
    hostile.standard = hostile.poison(standard, description=BOTH, source=with_payload(standard.source, BOTH, 255))

    # Users, and a survey upload through the API: hostile marker numbers and file name.
    team = SurveyTeam.objects.filter(lines=line).order_by("id").first()
    roles = {"surveyor": SURVEYOR, "reviewer": REVIEWER}
    for role in ("surveyor", "reviewer", "admin"):
        name = f"hostile-{role}"
        if role == "admin":
            user = User.objects.create_superuser(name, f"{name}@example.org", PASSWORD)
        else:
            user = User.objects.create_user(name, password=PASSWORD)
            user.groups.add(Group.objects.get(name=roles[role]))
        hostile.users[role] = name
    team.members.add(User.objects.get(username=hostile.users["surveyor"]))
    points = [(m.geom.x, m.geom.y) for m in hostile.markers[:2]]
    client = APIClient()
    client.force_authenticate(User.objects.get(username=hostile.users["surveyor"]))
    with override_settings(MEDIA_ROOT=media_root):
        response = client.post(
            "/api/v1/survey-uploads",
            {
                "file": SimpleUploadedFile(IMG + ".geojson", _geojson_markers(points, [IMG, SCRIPT])),
                "line": LINE,
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    hostile.upload = SurveyUpload.objects.get(uploaded_by__username=hostile.users["surveyor"])
    cache_clear_own()  # vector tiles are cached


def _remove_hostile(hostile: Hostile) -> None:
    usernames = list(hostile.users.values())
    users = list(User.objects.filter(username__in=usernames))
    SurveyUpload.objects.filter(uploaded_by__in=users).delete()
    ids = {str(u.pk) for u in users}
    for session in Session.objects.all():
        if session.get_decoded().get("_auth_user_id") in ids:
            session.delete()
    try:
        from axes.models import AccessAttempt, AccessLog

        AccessAttempt.objects.filter(username__in=usernames).delete()
        AccessLog.objects.filter(username__in=usernames).delete()
    except ImportError:  # pragma: no cover
        pass
    for user in users:
        user.delete()
    for model, pk, values in reversed(hostile._restore):
        model.objects.filter(pk=pk).update(**values)
    cache_clear_own()
    # Nothing hostile is left for the other tests.
    left = {
        f"{model.__name__}.{name}": model.objects.filter(**{f"{name}__contains": "__xss"}).count()
        for model, name in [
            (Division, "name"), (Cluster, "name"), (PlaceName, "name"), (PlaceName, "meaning"),
            (PlaceNameVariant, "name"), (Facility, "name"), (Facility, "address"), (BoundaryLine, "name"),
            (Marker, "number"), (Inspection, "findings"), (BoundaryProblem, "description"), (SurveyTeam, "name"),
            (CoverageStandard, "source"), (SurveyUpload, "original_name"),
        ]
    }  # fmt: skip
    assert not any(left.values()), left
    assert not User.objects.filter(username__in=usernames).exists()


@pytest.fixture(scope="package")
def hostile(django_db_setup, django_db_blocker, tmp_path_factory):
    """Hostile text committed in the session database for this package's tests (see the docstring)."""
    data = Hostile()
    media_root = tmp_path_factory.mktemp("hostile-media")
    with django_db_blocker.unblock():
        try:
            committed(_make_hostile, data, media_root)
            yield data
        finally:
            committed(_remove_hostile, data)


def sign_in(page, server: str, username: str) -> None:
    """Sign in through the login page (in the page's browser context)."""
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
