"""The proposals' pages: the public list shows only decided proposals; a proposal's page shows its
impact figures in Chinese and the buttons the user's role allows; a button's form runs the step."""

import pytest
from django.test import Client

from boundaries.models import DivisionProposal
from tests.boundaries.test_proposals import GUNAN, URL, XINSHENG, client_for, merger, user_with_role

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_show_the_impact_and_run_the_steps():
    planner, admin = user_with_role("planner-p", "planner"), user_with_role("admin-p", "administrator")
    pk = merger(client_for(planner)).json()["id"]
    assert Client().get(f"/divisions/proposals/{pk}/").status_code == 404  # a draft is not public
    assert f"/divisions/proposals/{pk}/" not in Client().get("/divisions/proposals/").content.decode()
    page = signed_in(planner).get(f"/divisions/proposals/{pk}/").content.decode()
    assert "提交方案时计算" in page and "/submit/" in page and "/approve/" not in page
    assert signed_in(planner).post(f"/divisions/proposals/{pk}/submit/").status_code == 302
    proposal = DivisionProposal.objects.get(pk=pk)
    assert proposal.status == "submitted"
    page = signed_in(admin).get(f"/divisions/proposals/{pk}/").content.decode()
    assert "60岁及以上人口" in page and f"{proposal.impact['population']}" in page
    assert GUNAN in page and XINSHENG in page and "/approve/" in page and "/submit/" not in page
    # A planner's post of an administrator's step is refused and changes nothing.
    assert signed_in(planner).post(f"/divisions/proposals/{pk}/approve/").status_code == 403
    assert signed_in(admin).post(f"/divisions/proposals/{pk}/approve/", {"note": "同意"}).status_code == 302
    assert DivisionProposal.objects.get(pk=pk).status == "approved"
    listed = Client().get("/divisions/proposals/").content.decode()
    assert f"/divisions/proposals/{pk}/" in listed and "已批准" in listed
    assert Client().get(f"{URL}/{pk}").status_code == 200


def test_the_admin_lists_proposals_with_their_history():
    planner = user_with_role("planner-h", "planner")
    pk = merger(client_for(planner)).json()["id"]
    superuser = user_with_role("root-h", None)
    superuser.is_superuser = superuser.is_staff = True
    superuser.save()
    admin = signed_in(superuser)
    assert admin.get("/admin/boundaries/divisionproposal/").status_code == 200
    history = admin.get(f"/admin/boundaries/divisionproposal/{pk}/history/")
    assert history.status_code == 200 and "planner-h" in history.content.decode()
