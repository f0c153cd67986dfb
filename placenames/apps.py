from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacenamesConfig(AppConfig):
    name = "placenames"
    verbose_name = _("Standard place names")

    def ready(self):
        from boundaries.signals import division_renamed, division_split, divisions_replaced
        from placenames.division_changes import (
            placename_division_renamed,
            placenames_division_split,
            placenames_divisions_replaced,
        )

        # The place names follow an applied division change (the boundaries cannot call them).
        divisions_replaced.connect(placenames_divisions_replaced, dispatch_uid="placenames_divisions_replaced")
        division_renamed.connect(placename_division_renamed, dispatch_uid="placenames_division_renamed")
        division_split.connect(placenames_division_split, dispatch_uid="placenames_division_split")
