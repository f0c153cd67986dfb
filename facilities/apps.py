from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = _("Facilities and coverage")

    def ready(self):
        from django.db.models.signals import post_save

        from boundaries.models import Division
        from boundaries.signals import division_change_impact, division_split, divisions_changed, divisions_replaced
        from facilities.division_impact import facilities_division_change_impact
        from facilities.services import (
            coverage_nearest_division_saved,
            coverage_nearest_rebuild,
            facilities_division_split,
            facilities_divisions_replaced,
        )

        # The nearest-facility table follows the divisions (the boundaries cannot call the facilities).
        divisions_changed.connect(coverage_nearest_rebuild, dispatch_uid="facilities_nearest_rebuild")
        post_save.connect(coverage_nearest_division_saved, sender=Division, dispatch_uid="facilities_nearest_division")
        divisions_replaced.connect(facilities_divisions_replaced, dispatch_uid="facilities_divisions_replaced")
        division_split.connect(facilities_division_split, dispatch_uid="facilities_division_split")
        # The impact of a proposed division change includes the facilities and their coverage.
        division_change_impact.connect(facilities_division_change_impact, dispatch_uid="facilities_change_impact")
