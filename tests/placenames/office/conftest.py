"""Users with the office's roles, API clients signed in as them, and points inside districts."""

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point
from rest_framework.test import APIClient

from boundaries.models import SurveyTeam
from gis_portal.core.roles import NAMING_OFFICER, SURVEYOR
from placenames.models import PlaceName

JIEFANGBEI = Point(106.5767, 29.5575, srid=4326)  # 解放碑, 渝中区
YUZHONG, JIANGBEI, QIANJIANG, YOUYANG = "500103", "500105", "500114", "500242"


def user_with_role(username: str, role: str) -> User:
    user = User.objects.create_user(username, password="office-Pa55word")
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def officer(db) -> User:
    return user_with_role("officer-test", NAMING_OFFICER)


@pytest.fixture
def surveyor(db) -> User:
    user = user_with_role("sign-surveyor", SURVEYOR)
    team, _ = SurveyTeam.objects.get_or_create(name="地名标志检查组")
    team.members.add(user)
    return user


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def point_in(district_code: str) -> Point:
    """The point of a village or community of the district (generated inside its township)."""
    place = PlaceName.objects.filter(district__code=district_code, feature_class="village").order_by("id").first()
    return place.point


def geojson(point: Point) -> dict:
    return {"type": "Point", "coordinates": [point.x, point.y]}
