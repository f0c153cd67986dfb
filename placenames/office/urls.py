"""Page URLs of the place-name office, under /placenames/ (its API is routed with the portal's /api/v1/)."""

from django.urls import path

from placenames.office import views

app_name = "office"

urlpatterns = [
    path("naming/suggest/", views.SuggestView.as_view(), name="suggest"),
    path("naming/notices/", views.NoticeListView.as_view(), name="notices"),
    path("naming/notices/<int:pk>/", views.NoticeDetailView.as_view(), name="notice"),
    path("naming/desk/", views.OfficeDeskView.as_view(), name="desk"),
    path("naming/desk/<int:pk>/", views.ApplicationOfficeView.as_view(), name="application"),
    path("signs/", views.SignsView.as_view(), name="signs"),
    path("signs/<int:pk>/check/", views.SignCheckView.as_view(), name="sign-check"),
    path("heritage/", views.HeritageView.as_view(), name="heritage"),
    path("<int:placename_id>/story/", views.StoryEditView.as_view(), name="story"),
    path("register/<str:code>/pdf/", views.RegisterPdfView.as_view(), name="register-pdf"),
]
