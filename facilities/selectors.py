"""Reads of the facilities for the API and the pages."""

from django.db.models import QuerySet

from facilities.models import CoverageStandard, Facility


def facility_list() -> QuerySet[Facility]:
    """All facilities with their derived township, district and village (one query)."""
    return Facility.objects.select_related("division", "district", "village").order_by("id")


def coverage_standard_list() -> QuerySet[CoverageStandard]:
    return CoverageStandard.objects.filter(active=True).order_by("category", "kind")
