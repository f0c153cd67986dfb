"""Administrators' pages for the teams' accounts: the list with a form to add an account, and per
account reset password, deactivate and revoke tokens (a generated password is shown once); the
audit of who did what. Other users get 403."""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views import View

from gis_portal.core.errors import Forbidden, ServiceError
from gis_portal.core.roles import ADMINISTRATOR, user_has_role
from gis_portal.portal.accounts.selectors import account_rows, audit_recent
from gis_portal.portal.accounts.services import (
    ROLES,
    account_create,
    account_deactivate,
    account_password_reset,
    account_tokens_revoke,
)


class AccountForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=[(r, r) for r in ROLES])
    team = forms.CharField(label=_("Survey team"), max_length=128, required=False)


class AdministratorsOnly(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not user_has_role(request.user, ADMINISTRATOR):
            raise Forbidden("only administrators manage accounts")
        return super().dispatch(request, *args, **kwargs)


class AccountsView(AdministratorsOnly, View):
    template = "accounts/accounts.html"

    def render_page(self, request: HttpRequest, form: AccountForm, status: int = 200, **extra) -> HttpResponse:
        return render(request, self.template, {"form": form, "accounts": account_rows(), **extra}, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(request, AccountForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        action, username = request.POST.get("action", "create"), request.POST.get("username", "")
        try:
            if action == "create":
                form = AccountForm(request.POST)
                if not form.is_valid():
                    return self.render_page(request, form, status=400)
                user, password = account_create(**form.cleaned_data, actor=request.user)
                return self.render_page(request, AccountForm(), done=user.username, password=password)
            password = None
            if action == "reset_password":
                password = account_password_reset(username=username, actor=request.user)
            elif action == "deactivate":
                account_deactivate(username=username, actor=request.user)
            elif action == "revoke_tokens":
                account_tokens_revoke(username=username, actor=request.user)
            else:
                return self.render_page(request, AccountForm(), status=400, error=_("Unknown action."))
        except ServiceError as exc:
            return self.render_page(request, AccountForm(), status=exc.status, error=exc.message)
        return self.render_page(request, AccountForm(), done=username, password=password)


class AuditView(AdministratorsOnly, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "accounts/audit.html", {"actions": audit_recent(limit=200)})
