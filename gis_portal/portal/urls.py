from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from boundaries import api as boundaries_api
from boundaries import lines_api, proposal_views, proposals_api
from boundaries import views as boundaries_views
from boundaries.surveys import api as survey_api
from boundaries.surveys import views as survey_views
from facilities import api as facilities_api
from facilities import views as facilities_views
from gis_portal.jobs import api as jobs_api
from gis_portal.portal import health, tiles, views
from gis_portal.portal.accounts import api as accounts_api
from gis_portal.portal.accounts import views as accounts_views
from placenames import api as placenames_api
from placenames.office import api as office_api

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(api_version="v1"), name="schema"),
    # The split view serves its set-up script from ?script=, so the page needs no inline script (CSP).
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="portal/swagger_ui.html"),
        name="docs",
    ),
    path("auth/token", accounts_api.TokenView.as_view(), name="auth-token"),
    path("locate", boundaries_api.LocateView.as_view(), name="locate"),
    path("locate/batch", boundaries_api.LocateBatchView.as_view(), name="locate-batch"),
    path("divisions", boundaries_api.DivisionListView.as_view(), name="division-list"),
    path("divisions/<str:code>", boundaries_api.DivisionDetailView.as_view(), name="division-detail"),
    path("division-changes", boundaries_api.DivisionChangeListView.as_view(), name="division-change-list"),
    path("division-proposals/merger-impact", boundaries_api.MergerImpactView.as_view(), name="merger-impact"),
    path("division-proposals", proposals_api.ProposalListView.as_view(), name="division-proposal-list"),
    path("division-proposals/<int:pk>", proposals_api.ProposalDetailView.as_view(), name="division-proposal-detail"),
    path(
        "division-proposals/<int:pk>/submit",
        proposals_api.ProposalSubmitView.as_view(),
        name="division-proposal-submit",
    ),
    path(
        "division-proposals/<int:pk>/withdraw",
        proposals_api.ProposalWithdrawView.as_view(),
        name="division-proposal-withdraw",
    ),
    path(
        "division-proposals/<int:pk>/approve",
        proposals_api.ProposalApproveView.as_view(),
        name="division-proposal-approve",
    ),
    path(
        "division-proposals/<int:pk>/reject",
        proposals_api.ProposalRejectView.as_view(),
        name="division-proposal-reject",
    ),
    path(
        "division-proposals/<int:pk>/apply", proposals_api.ProposalApplyView.as_view(), name="division-proposal-apply"
    ),
    path("boundary-lines", lines_api.BoundaryLineListView.as_view(), name="boundary-line-list"),
    path("boundary-lines/<str:code>", lines_api.BoundaryLineDetailView.as_view(), name="boundary-line-detail"),
    path("markers", lines_api.MarkerListView.as_view(), name="marker-list"),
    path("inspections/summary", lines_api.InspectionSummaryView.as_view(), name="inspection-summary"),
    path("survey-uploads", survey_api.SurveyUploadListView.as_view(), name="survey-upload-list"),
    path("survey-uploads/<int:pk>", survey_api.SurveyUploadDetailView.as_view(), name="api-survey-upload-detail"),
    path("survey-uploads/<int:pk>/review", survey_api.SurveyUploadReviewView.as_view(), name="survey-upload-review"),
    path("placenames/search", placenames_api.SearchView.as_view(), name="placename-search"),
    path("placenames/autocomplete", placenames_api.AutocompleteView.as_view(), name="placename-autocomplete"),
    path("placenames/nearby", placenames_api.NearbyView.as_view(), name="placename-nearby"),
    path("placenames/duplicates", placenames_api.DuplicatesView.as_view(), name="placename-duplicates"),
    path("placenames/export.csv", placenames_api.ExportCsvView.as_view(), name="placename-export-csv"),
    path("placenames/export.geojson", placenames_api.ExportGeoJsonView.as_view(), name="placename-export-geojson"),
    path("placenames/<int:placename_id>", placenames_api.DetailView.as_view(), name="placename-detail"),
    path("naming/applications", office_api.ApplicationListView.as_view(), name="naming-application-list"),
    path("naming/applications/<int:pk>", office_api.ApplicationDetailView.as_view(), name="naming-application-detail"),
    path("naming/applications/<int:pk>/notice", office_api.NoticeOpenView.as_view(), name="naming-notice-open"),
    path("naming/applications/<int:pk>/decision", office_api.DecisionView.as_view(), name="naming-decision"),
    path("naming/applications/<int:pk>/publish", office_api.PublishView.as_view(), name="naming-publish"),
    path("naming/applications/<int:pk>/recheck", office_api.RecheckView.as_view(), name="naming-recheck"),
    path("naming/applications/<int:pk>/comments", office_api.CommentView.as_view(), name="naming-comment"),
    path("naming/notices", office_api.NoticeListView.as_view(), name="naming-notice-list"),
    path("naming/signs", office_api.SignListView.as_view(), name="naming-sign-list"),
    path("naming/signs/<int:pk>", office_api.SignDetailView.as_view(), name="naming-sign-detail"),
    path("naming/signs/<int:pk>/checks", office_api.SignCheckView.as_view(), name="naming-sign-check"),
    path("naming/registers/<str:code>/pdf/jobs", office_api.RegisterPdfJobView.as_view(), name="register-pdf-job"),
    path("naming/heritage", office_api.HeritageListView.as_view(), name="naming-heritage-list"),
    path("facilities", facilities_api.FacilityListView.as_view(), name="facility-list"),
    path("coverage", facilities_api.CoverageView.as_view(), name="coverage"),
    path("coverage/gaps", facilities_api.CoverageGapsView.as_view(), name="coverage-gaps"),
    path("coverage/points", facilities_api.CoveragePointsView.as_view(), name="coverage-points"),
    path("coverage/suggest", facilities_api.CoverageSuggestView.as_view(), name="coverage-suggest"),
    path("coverage/suggest/jobs", facilities_api.CoverageSuggestJobView.as_view(), name="coverage-suggest-job"),
    path("coverage/report/jobs", facilities_views.CoverageReportJobView.as_view(), name="coverage-report-job"),
    path("jobs/<int:job_id>", jobs_api.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/file", jobs_api.JobFileView.as_view(), name="job-file"),
    path("coverage/scenario", facilities_api.CoverageScenarioView.as_view(), name="coverage-scenario"),
    path("coverage/scenarios", facilities_api.ScenarioListView.as_view(), name="coverage-scenarios"),
    path(
        "coverage/scenarios/<int:scenario_id>",
        facilities_api.ScenarioDetailView.as_view(),
        name="coverage-scenario-detail",
    ),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", views.MapView.as_view(), name="map"),
    path("inspections/", boundaries_views.InspectionDashboardView.as_view(), name="inspections"),
    path("locate/batch/", boundaries_views.LocateBatchPageView.as_view(), name="locate-batch-page"),
    path("inspections/lines/<str:code>/", boundaries_views.BoundaryLinePageView.as_view(), name="inspection-line"),
    path("divisions/changes/", boundaries_views.DivisionChangesPageView.as_view(), name="division-changes"),
    path("divisions/proposals/", proposal_views.ProposalListPageView.as_view(), name="division-proposals-page"),
    path("divisions/proposals/<int:pk>/", proposal_views.ProposalPageView.as_view(), name="division-proposal-page"),
    path(
        "divisions/proposals/<int:pk>/<slug:step>/",
        proposal_views.ProposalStepView.as_view(),
        name="division-proposal-step",
    ),
    path("divisions/<str:code>/", boundaries_views.DivisionPageView.as_view(), name="division-page"),
    path("coverage/", facilities_views.CoverageDashboardView.as_view(), name="coverage-dashboard"),
    path("coverage/report", facilities_views.CoverageReportView.as_view(), name="coverage-report"),
    path("api/v1/", include(api_v1)),
    path("ogc/", include("gis_portal.portal.ogc.urls")),
    path("tiles/<str:layer>/<str:z>/<str:x>/<str:y>.pbf", tiles.TileView.as_view(), name="tile"),
    path("placenames/", include("placenames.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Sign-in, sign-out and a signed-in user's own password change. No self-service password reset:
    # accounts are given and reset by administrators, and the service sends no mail.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/manage/", accounts_views.AccountsView.as_view(), name="accounts"),
    path("accounts/audit/", accounts_views.AuditView.as_view(), name="accounts-audit"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("surveys/", survey_views.SurveyHomeView.as_view(), name="surveys"),
    path("surveys/<int:pk>/", survey_views.SurveyUploadPageView.as_view(), name="survey-upload-detail"),
    path("admin/", admin.site.urls),
]

handler404 = "gis_portal.portal.views.not_found"
handler500 = "gis_portal.portal.views.server_error"
