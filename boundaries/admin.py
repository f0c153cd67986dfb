"""The Django admin of the divisions and the boundary record: clusters, divisions, lines, markers,
tri-junctions, survey teams, inspection rounds, inspections and problems, the geometries with Leaflet
map widgets. Saving a division whose polygon changed recuts its point-in-polygon pieces."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from boundaries.models import (
    BoundaryLine,
    BoundaryProblem,
    Cluster,
    Division,
    Inspection,
    InspectionRound,
    Marker,
    MarkerCheck,
    SurveyTeam,
    TriJunction,
)
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


class MarkerInline(admin.TabularInline):
    model = Marker
    fields = ["number", "sequence", "marker_type", "status", "last_checked", "is_synthetic"]
    extra = 0
    show_change_link = True


@admin.register(BoundaryLine)
class BoundaryLineAdmin(LeafletGeoAdmin):
    """Lines are derived (derive_boundary_lines); inspection status and dates are edited here."""

    list_display = ["code", "name", "level", "length_m", "status", "last_inspected", "is_synthetic"]
    list_filter = ["level", "status", "is_synthetic", "district__cluster"]
    search_fields = ["code", "name"]
    readonly_fields = ["length_m", "left_division", "right_division", "district"]
    inlines = [MarkerInline]


@admin.register(Marker)
class MarkerAdmin(LeafletGeoAdmin):
    list_display = ["number", "line", "marker_type", "status", "last_checked", "is_synthetic"]
    list_filter = ["marker_type", "status", "is_synthetic", "line__level"]
    search_fields = ["number", "line__name"]
    raw_id_fields = ["line"]


@admin.register(TriJunction)
class TriJunctionAdmin(LeafletGeoAdmin):
    list_display = ["names", "level", "codes", "is_synthetic"]
    list_filter = ["level"]
    filter_horizontal = ["divisions"]


@admin.register(SurveyTeam)
class SurveyTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "is_synthetic"]
    filter_horizontal = ["members"]
    raw_id_fields = ["lines"]


@admin.register(InspectionRound)
class InspectionRoundAdmin(admin.ModelAdmin):
    list_display = ["year", "level"]


class MarkerCheckInline(admin.TabularInline):
    model = MarkerCheck
    raw_id_fields = ["marker"]
    extra = 0


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["line", "date", "round", "team", "result", "is_synthetic"]
    list_filter = ["result", "round", "is_synthetic"]
    search_fields = ["line__code", "line__name"]
    raw_id_fields = ["line"]
    inlines = [MarkerCheckInline]


@admin.register(BoundaryProblem)
class BoundaryProblemAdmin(LeafletGeoAdmin):
    list_display = ["line", "kind", "status", "reported", "resolved", "is_synthetic"]
    list_filter = ["kind", "status", "is_synthetic"]
    raw_id_fields = ["line", "inspection"]
