"""The Django admin of the divisions and the boundary record: clusters, divisions, lines, markers,
tri-junctions, survey teams, inspection rounds, inspections and problems, the geometries with Leaflet
map widgets. Saving a division whose polygon changed recuts its point-in-polygon pieces."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin
from simple_history.admin import SimpleHistoryAdmin

from boundaries.history import division_change_review
from boundaries.history_models import DivisionChange, DivisionList, DivisionVersion, EstablishmentStandard
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
from boundaries.proposal_models import DivisionProposal
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


# --- Division history: the lists, the versions and the change links staff confirm or correct ---


@admin.register(DivisionList)
class DivisionListAdmin(admin.ModelAdmin):
    list_display = ["as_of", "source", "districts", "townships", "villages"]

    def has_add_permission(self, request):
        return False  # imported by import_division_history


@admin.register(DivisionVersion)
class DivisionVersionAdmin(admin.ModelAdmin):
    """Versions are derived from the lists; read here, corrected through their change links."""

    list_display = ["code", "name", "level", "kind", "parent_code", "valid_from", "valid_to", "is_synthetic"]
    list_filter = ["level", "kind", "cluster"]
    search_fields = ["code", "name", "standard_name"]
    readonly_fields = [field.name for field in DivisionVersion._meta.fields]

    def has_add_permission(self, request):
        return False


class DivisionChangeForm(forms.ModelForm):
    class Meta:
        model = DivisionChange
        fields = ["type", "before", "after", "effective_date", "note"]

    def clean_effective_date(self):
        day = self.cleaned_data.get("effective_date")
        change = self.instance
        if day is not None and not (change.changed_after < day <= change.changed_by):
            raise forms.ValidationError(
                _("The day must lie after %(after)s and on or before %(by)s (the two lists).")
                % {"after": change.changed_after, "by": change.changed_by}
            )
        return day


@admin.register(DivisionChange)
class DivisionChangeAdmin(admin.ModelAdmin):
    """Inferred links between versions, with their evidence: staff confirm them (with the day, if
    known) or correct the type or the sides; either is recorded with who and when."""

    list_display = ["changed_by", "district_code", "level", "type", "before", "after", "inferred", "review"]
    list_filter = ["changed_by", "level", "type", "review", "inferred"]
    search_fields = ["before__code", "before__name", "after__code", "after__name", "district_code"]
    raw_id_fields = ["before", "after"]
    form = DivisionChangeForm
    fields = [
        "type",
        "level",
        "before",
        "after",
        "district_code",
        "changed_after",
        "changed_by",
        "effective_date",
        "evidence",
        "inferred",
        "review",
        "reviewed_by",
        "reviewed_at",
        "note",
    ]
    readonly_fields = [
        "level",
        "district_code",
        "changed_after",
        "changed_by",
        "evidence",
        "inferred",
        "review",
        "reviewed_by",
        "reviewed_at",
    ]
    actions = ["confirm_links"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # An edit of the type or a side is a correction; an edit of the day alone confirms the link.
        corrected = bool({"type", "before", "after"} & set(form.changed_data))
        day = form.cleaned_data.get("effective_date")
        division_change_review(change=obj, user=request.user, confirm=not corrected, effective_date=day, note=obj.note)

    @admin.action(description=_("Confirm the selected links (no day)"))
    def confirm_links(self, request, queryset):
        for change in queryset.select_related("before", "after"):
            division_change_review(change=change, user=request.user, confirm=True, effective_date=change.effective_date)
        self.message_user(request, _("Links confirmed."))


@admin.register(EstablishmentStandard)
class EstablishmentStandardAdmin(admin.ModelAdmin):
    """The standards for setting up towns and streets, with their source; administrators edit them."""

    list_display = ["unit", "group", "figure_label", "comparison", "threshold", "service_knows", "source_date"]
    list_filter = ["unit", "service_knows"]
    search_fields = ["figure", "figure_label", "source"]


@admin.register(DivisionProposal)
class DivisionProposalAdmin(SimpleHistoryAdmin):
    """Change proposals, read here with their history (who did which step, when); the workflow runs
    through its services (the API and the proposal pages), never by editing a row."""

    list_display = ["id", "kind", "units", "new_name", "status", "effective_date", "author", "approver", "updated_at"]
    list_filter = ["status", "kind"]
    search_fields = ["new_name", "district_code", "title"]
    readonly_fields = [field.name for field in DivisionProposal._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
