"""Accounts of the bureau's teams from the command line (the same services as the admin page):

manage.py account create NAME --role surveyor --team 一队     # prints the generated password once
manage.py account reset-password NAME
manage.py account deactivate NAME
manage.py account revoke-tokens NAME
manage.py account list
"""

from gis_portal.core.commands import ServiceCommand
from gis_portal.portal.accounts.selectors import account_rows
from gis_portal.portal.accounts.services import (
    ROLES,
    account_create,
    account_deactivate,
    account_password_reset,
    account_tokens_revoke,
)


class Command(ServiceCommand):
    help = "Create, reset, deactivate and list the accounts of the survey teams and staff."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="a new account with a role (and a team for a surveyor)")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=ROLES)
        create.add_argument("--team", help="survey team (created if new); required for a surveyor")
        for name, text in (
            ("reset-password", "a new generated password; API tokens revoked"),
            ("deactivate", "the account can no longer sign in"),
            ("revoke-tokens", "delete the account's API tokens"),
        ):
            actions.add_parser(name, help=text).add_argument("username")
        actions.add_parser("list", help="every account with its roles and teams")

    def run(self, *, action: str, **options) -> str:
        if action == "create":
            user, password = account_create(username=options["username"], role=options["role"], team=options["team"])
            return f"created {user.username} ({options['role']}); password, shown only now: {password}"
        if action == "reset-password":
            password = account_password_reset(username=options["username"])
            return f"new password for {options['username']}, shown only now: {password}"
        if action == "deactivate":
            return f"deactivated {account_deactivate(username=options['username']).username}"
        if action == "revoke-tokens":
            return f"{account_tokens_revoke(username=options['username'])} token(s) revoked"
        return "\n".join(
            f"{a['username']:<24} {','.join(a['roles']) or '-':<28} {','.join(a['teams']) or '-':<20} "
            f"{'active' if a['active'] else 'inactive'}"
            for a in account_rows()
        )
