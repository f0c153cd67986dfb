"""Reads of survey uploads: which uploads a user may see, and one of them."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from boundaries.surveys.models import SurveyUpload
from gis_portal.core.errors import NotFound
from gis_portal.core.roles import REVIEWER, user_has_role


def survey_uploads_visible(*, user: AbstractBaseUser) -> QuerySet[SurveyUpload]:
    """The uploads a user may see: reviewers all, surveyors their teams'."""
    uploads = SurveyUpload.objects.select_related("line", "team", "uploaded_by", "reviewed_by")
    return uploads if user_has_role(user, REVIEWER) else uploads.filter(team__members=user)


def survey_upload_get(*, user: AbstractBaseUser, pk: int) -> SurveyUpload:
    """An upload the user may see, or NotFound (another team's upload does not exist for them)."""
    upload = survey_uploads_visible(user=user).filter(pk=pk).first()
    if upload is None:
        raise NotFound(f"no survey upload {pk} that you may see")
    return upload
