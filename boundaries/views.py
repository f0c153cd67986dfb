"""Pages of the boundary lines: the inspection dashboard and a line's page with its history."""

from django.conf import settings
from django.utils import timezone
from django.views.generic import TemplateView

from boundaries.models import BoundaryLine
from boundaries.selectors import boundary_line_get, boundary_line_history, boundary_line_list, inspection_summary
from gis_portal.core.geo import SOURCE_DATUMS
from gis_portal.core.roles import user_is_staff_member

# The overdue list shows the lines the bureau itself inspects; township lines are counted only.
OVERDUE_LIST_LEVELS = [BoundaryLine.Level.PROVINCE, BoundaryLine.Level.COUNTY]


class InspectionDashboardView(TemplateView):
    """Map of the provincial and county lines by status, markers, roll-ups and the overdue list."""

    template_name = "boundaries/inspections.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        level = self.request.GET.get("level") or None
        if level not in BoundaryLine.Level.values:
            level = None
        context.update(
            today=today,
            level=level,
            levels=BoundaryLine.Level.choices,
            by_cluster=inspection_summary(group_by="cluster", today=today, level=level),
            by_district=inspection_summary(group_by="district", today=today, level=level),
            overdue_lines=boundary_line_list(today=today).filter(overdue=True, level__in=OVERDUE_LIST_LEVELS),
            overdue_township_count=boundary_line_list(today=today)
            .filter(overdue=True, level=BoundaryLine.Level.TOWNSHIP)
            .count(),
        )
        return context


class BoundaryLinePageView(TemplateView):
    template_name = "boundaries/line.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        line = boundary_line_get(code=kwargs["code"], today=timezone.localdate())
        internal = user_is_staff_member(self.request.user)
        context.update(line=line, history=boundary_line_history(line=line, internal=internal), internal=internal)
        return context


class LocateBatchPageView(TemplateView):
    """The batch locate form: a CSV (id, x, y) or GeoJSON file and its stated datum, sent to
    /api/v1/locate/batch; the located file comes back as a download, an error as text."""

    template_name = "boundaries/locate_batch.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["datums"] = SOURCE_DATUMS
        context["max_points"] = settings.LOCATE_BATCH_LIMITS["max_points"]
        context["max_mb"] = settings.LOCATE_BATCH_LIMITS["max_bytes"] // (1024 * 1024)
        return context
