"""Roles as groups: survey teams' members (surveyor), bureau staff who review (reviewer), the
place-name office's naming officers (naming_officer), planners who try what-if coverage scenarios
(planner) and administrators. The public has no role: it writes only naming suggestions and notice
comments. Groups and their permissions are (re)created after every migrate, so a new model's
permissions reach the roles by themselves."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

SURVEYOR = "surveyor"
REVIEWER = "reviewer"
NAMING_OFFICER = "naming_officer"
PLANNER = "planner"
ADMINISTRATOR = "administrator"

# Model permissions per role, as "app_label.codename"; missing ones (not migrated yet) are skipped.
ROLE_PERMISSIONS = {
    SURVEYOR: ["surveys.add_surveyupload", "surveys.view_surveyupload"],
    REVIEWER: [
        "surveys.view_surveyupload",
        "surveys.review_surveyupload",
        "boundaries.add_inspection",
        "boundaries.change_marker",
        "boundaries.view_inspection",
    ],
    NAMING_OFFICER: [
        "office.view_namingapplication",
        "office.decide_namingapplication",
        "office.change_sign",
        "office.view_sign",
        "office.add_heritagename",
        "office.change_heritagename",
        "placenames.change_placename",
    ],
    PLANNER: [
        "facilities.add_scenario",
        "facilities.view_scenario",
        "boundaries.add_divisionproposal",
        "boundaries.view_divisionproposal",
    ],
}
ADMINISTRATOR_APPS = ["boundaries", "surveys", "placenames", "office", "facilities"]


def roles_ensure(**_kwargs) -> None:
    """Create the role groups and give them their permissions (idempotent; a post_migrate hook)."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [tuple(name.split(".", 1)) for name in names]
        permissions = [
            p
            for p in Permission.objects.filter(content_type__app_label__in={a for a, _ in wanted}).select_related(
                "content_type"
            )
            if (p.content_type.app_label, p.codename) in wanted
        ]
        group.permissions.set(permissions)
    administrators, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    administrators.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMINISTRATOR_APPS))


def user_is_staff_member(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Signed in with any of the bureau's roles (what internal records may be shown to)."""
    return bool(user.is_authenticated) and (
        user.is_superuser or user.groups.filter(name__in=[*ROLE_PERMISSIONS, ADMINISTRATOR]).exists()
    )


def user_has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name__in=[role, ADMINISTRATOR]).exists()
