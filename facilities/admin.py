from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from facilities.models import CoverageStandard, Facility
from facilities.services import coverage_nearest_refresh, coverage_standard_save, facilities_derive_divisions


@admin.register(Facility)
class FacilityAdmin(LeafletGeoAdmin):
    """Facilities with a Leaflet map widget (vendored; no CDN). Township, district and village are
    derived from the point when it is saved, by the same service the importer calls."""

    list_display = ["name", "category", "status", "operator", "beds", "district", "division", "is_synthetic"]
    list_filter = ["category", "status", "operator", "is_synthetic", "district"]
    search_fields = ["name", "address"]
    readonly_fields = ["division", "district", "village"]
    list_select_related = ["district", "division"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or "point" in form.changed_data:
            facilities_derive_divisions(facility_ids=[obj.pk])
        if not change or {"point", "status", "category"} & set(form.changed_data):
            coverage_nearest_refresh(facility_ids=[obj.pk])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)  # its nearest rows go with it (cascade) and are searched again
        coverage_nearest_refresh(facility_ids=[])

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        coverage_nearest_refresh(facility_ids=[])


@admin.register(CoverageStandard)
class CoverageStandardAdmin(admin.ModelAdmin):
    list_display = ["category", "kind", "radius_urban_m", "radius_rural_m", "level", "min_count",
                    "beds_per_1000_elderly", "active"]  # fmt: skip
    list_filter = ["kind", "active"]
    list_editable = ["active"]

    def save_model(self, request, obj, form, change):
        coverage_standard_save(standard=obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        coverage_nearest_refresh(facility_ids=[])

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        coverage_nearest_refresh(facility_ids=[])
