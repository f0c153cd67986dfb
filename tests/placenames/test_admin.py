"""Staff edit names in the admin: a rename keeps the old name as a former name, and the history
records who changed what."""

import pytest
from django.contrib.auth.models import User

from placenames.models import PlaceName

pytestmark = pytest.mark.django_db


def change_form_data(page, **changes) -> dict:
    """The POST data of an admin change page as shown (the place and its inline variants), with
    ``changes`` to the place's fields."""
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data.update(changes)
    inline = page.context["inline_admin_formsets"][0].formset
    data.update({f"{inline.prefix}-{key}": value for key, value in inline.management_form.initial.items()})
    for i, variant_form in enumerate(inline.forms):
        for name in variant_form.fields:
            value = variant_form[name].value()
            data[f"{inline.prefix}-{i}-{name}"] = "" if value in (None, False) else value
    return data


def test_admin_rename_keeps_former_name_and_records_who(client):
    user = User.objects.create_superuser("editor", "editor@example.org", "pw-for-tests-only")
    client.force_login(user)
    place = PlaceName.objects.get(name="解放碑街道")
    page = client.get(f"/admin/placenames/placename/{place.id}/change/")
    assert page.status_code == 200 and "leaflet/leaflet.js" in page.content.decode()
    data = change_form_data(
        page,
        name="解放碑中心街道",
        approval_date="2025-03-01",
        approval_ref="渝府地名〔2025〕3号",
        point=place.point.geojson,
        is_synthetic="",
    )
    response = client.post(f"/admin/placenames/placename/{place.id}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    place.refresh_from_db()
    assert (place.name, place.pinyin) == ("解放碑中心街道", "Jiefangbeizhongxin Jiedao")
    assert place.valid_from.isoformat() == "2025-03-01"
    former = place.variants.get(kind="former")
    assert (former.name, former.valid_to.isoformat()) == ("解放碑街道", "2025-02-28")
    latest = place.history.latest()
    assert latest.history_user == user and latest.name == "解放碑中心街道"


def test_admin_rename_before_the_current_name_is_refused(client):
    client.force_login(User.objects.create_superuser("editor2", "editor2@example.org", "pw-for-tests-only"))
    place = PlaceName.objects.filter(valid_from__isnull=False, variants__kind="former").first()
    page = client.get(f"/admin/placenames/placename/{place.id}/change/")
    data = change_form_data(
        page, name="测试街道", approval_date="1950-01-01", point=place.point.geojson, is_synthetic="on"
    )
    response = client.post(f"/admin/placenames/placename/{place.id}/change/", data)
    assert response.status_code == 200
    assert "must take effect after" in response.content.decode()
    place.refresh_from_db()
    assert place.name != "测试街道"
