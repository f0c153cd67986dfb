"""The office in the Django admin: the name-check scopes (data, with their sources), heritage names
with their photos and history, signs with a map widget; applications are read here and moved only
through the workflow (the desk pages or the API), so their status is read-only."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin
from simple_history.admin import SimpleHistoryAdmin

from placenames.office.models import CheckScope, HeritageName, HeritagePhoto, NamingApplication, NamingEvent, Sign


@admin.register(CheckScope)
class CheckScopeAdmin(admin.ModelAdmin):
    list_display = ["object_type", "area", "feature_classes", "source"]


class HeritagePhotoInline(admin.TabularInline):
    model = HeritagePhoto
    extra = 0


@admin.register(HeritageName)
class HeritageNameAdmin(LeafletGeoAdmin, SimpleHistoryAdmin):
    list_display = ["name", "district", "category", "level", "is_synthetic"]
    list_filter = ["category", "level"]
    search_fields = ["name"]
    raw_id_fields = ["placename", "district"]
    inlines = [HeritagePhotoInline]


@admin.register(Sign)
class SignAdmin(LeafletGeoAdmin, SimpleHistoryAdmin):
    list_display = ["text_chinese", "text_pinyin", "sign_type", "district", "condition", "is_wrong", "is_synthetic"]
    list_filter = ["condition", "is_wrong", "sign_type", "is_synthetic"]
    search_fields = ["text_chinese", "placename__name"]
    raw_id_fields = ["placename", "district"]
    readonly_fields = ["findings", "is_wrong"]


class NamingEventInline(admin.TabularInline):
    model = NamingEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_status", "to_status", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(NamingApplication)
class NamingApplicationAdmin(LeafletGeoAdmin):
    list_display = ["pk", "name", "kind", "object_type", "district", "status", "submitted_at"]
    list_filter = ["status", "kind", "object_type"]
    search_fields = ["name"]
    raw_id_fields = ["placename", "district", "township"]
    readonly_fields = [
        "status", "findings", "checked_at", "decided_by", "decided_at", "published_at", "submitted_by", "approval_ref",
    ]  # fmt: skip
    inlines = [NamingEventInline]
