"""The gazetteer in the Django admin: standard names with a map widget, their variants inline and
their change history; a changed name goes through the rename service."""

import datetime
import logging

from django import forms
from django.contrib import admin
from django.utils import timezone
from leaflet.admin import LeafletGeoAdmin
from simple_history.admin import SimpleHistoryAdmin

from placenames.models import PlaceName, PlaceNameVariant
from placenames.services import placename_name_set, placename_rename

logger = logging.getLogger(__name__)


def rename_date(form: forms.ModelForm) -> datetime.date:
    """The day a rename in the admin takes effect: the approval date if it was changed too, else today."""
    approval_date = form.cleaned_data.get("approval_date") if "approval_date" in form.changed_data else None
    return approval_date or timezone.localdate()


class VariantInline(admin.TabularInline):
    model = PlaceNameVariant
    extra = 0
    fields = ["kind", "name", "pinyin", "language", "valid_from", "valid_to", "note", "is_synthetic"]


class PlaceNameForm(forms.ModelForm):
    class Meta:
        model = PlaceName
        fields = "__all__"  # noqa: DJ007 -- the admin lists every field; this form only adds a check

    def clean(self):
        """A rename takes effect on the approval date (or today), after the current name's start."""
        data = super().clean()
        if self.instance.pk and "name" in self.changed_data:
            on, start = rename_date(self), self.initial.get("valid_from")
            if start and on <= start:
                logger.info("admin rename of place name %s refused: %s is not after %s", self.instance.pk, on, start)
                raise forms.ValidationError(f"A rename must take effect after {start} (the current name's start).")
        return data


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
    form = PlaceNameForm

    def save_model(self, request, obj, form, change):
        """A changed name goes through the rename service, so the old one is kept as a former name;
        the derived spellings (专名/通名, pinyin, search keys) always follow the name."""
        if change and "name" in form.changed_data:
            new_name = obj.name
            obj.name = form.initial["name"]
            placename_rename(placename=obj, new_name=new_name, on=rename_date(form), approval_ref=obj.approval_ref)
            return
        placename_name_set(placename=obj, name=obj.name)
        super().save_model(request, obj, form, change)
