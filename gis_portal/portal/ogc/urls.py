from django.urls import path

from gis_portal.portal.ogc import downloads, views

app_name = "ogc"
urlpatterns = [
    path("", views.LandingView.as_view(), name="landing"),
    path("conformance", views.ConformanceView.as_view(), name="conformance"),
    path("api", views.ApiDocumentView.as_view(), name="api"),
    path("collections", views.CollectionsView.as_view(), name="collections"),
    path("collections/<str:collection_id>", views.CollectionView.as_view(), name="collection"),
    path("collections/<str:collection_id>/queryables", views.QueryablesView.as_view(), name="queryables"),
    path("collections/<str:collection_id>/schema", views.SchemaView.as_view(), name="schema"),
    path("collections/<str:collection_id>/items", views.ItemsView.as_view(), name="items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", views.ItemView.as_view(), name="item"),
    path("collections/<str:collection_id>/download", downloads.DownloadView.as_view(), name="download"),
]
