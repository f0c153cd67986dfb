from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from boundaries.models import Cluster, Division
from boundaries.services import division_pieces_rebuild


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "name_en", "color", "sort_order"]


@admin.register(Division)
class DivisionAdmin(LeafletGeoAdmin):
    """Divisions with a Leaflet map widget (vendored by django-leaflet; no CDN)."""

    list_display = ["code", "name", "level", "kind", "cluster", "area_m2", "population", "is_synthetic"]
    list_filter = ["level", "kind", "cluster", "is_synthetic"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["area_m2"]
    list_select_related = ["cluster"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "geom" in form.changed_data:
            division_pieces_rebuild(division_ids=[obj.id])
