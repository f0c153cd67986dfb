from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin
from simple_history.admin import SimpleHistoryAdmin

from placenames.models import PlaceName, PlaceNameVariant


class VariantInline(admin.TabularInline):
    model = PlaceNameVariant
    extra = 0
    fields = ["kind", "name", "pinyin", "language", "valid_from", "valid_to", "note", "is_synthetic"]


@admin.register(PlaceName)
class PlaceNameAdmin(SimpleHistoryAdmin, LeafletGeoAdmin):
    """Standard names with a map widget and their change history (who and when)."""

    list_display = ["name", "pinyin", "feature_class", "district", "status", "valid_from", "is_synthetic"]
    list_filter = ["feature_class", "status", "cluster", "is_synthetic"]
    search_fields = ["name", "pinyin_plain", "division__code"]
    raw_id_fields = ["division", "parent", "district"]
    readonly_fields = ["pinyin_plain", "initials", "rank"]
    list_select_related = ["district"]
    inlines = [VariantInline]
