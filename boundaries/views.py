"""Pages of the boundary lines (the inspection dashboard, a line's page with its history) and of the
division history (each list's changes by district, a unit's page with its timeline)."""

from django.conf import settings
from django.utils import timezone
from django.views.generic import TemplateView

from boundaries.history_selectors import (
    division_change_list,
    division_change_row,
    division_change_shapes,
    division_change_steps,
    division_successors,
    division_timeline,
    division_version_bounds,
    division_version_get,
)
from boundaries.models import BoundaryLine, Division
from boundaries.selectors import boundary_line_get, boundary_line_history, boundary_line_list, inspection_summary
from gis_portal.core.errors import NotFound
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


class DivisionChangesPageView(TemplateView):
    """Each list's changes (区划调整) by district: pick the step (the later list's date) and a
    district or level; every link says whether it is inferred and on what evidence."""

    template_name = "boundaries/division_changes.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        steps = division_change_steps()
        # By default the latest step with township changes (the later lists change villages only).
        default = next((s for s in reversed(steps) if s["townships"]), steps[-1] if steps else None)
        step = self.request.GET.get("step") or (str(default["changed_by"]) if default else "")
        chosen = next((s for s in steps if str(s["changed_by"]) == step), None)
        level = self.request.GET.get("level") or Division.Level.TOWNSHIP
        if level not in (Division.Level.DISTRICT, Division.Level.TOWNSHIP, Division.Level.VILLAGE, "all"):
            level = Division.Level.TOWNSHIP
        district = self.request.GET.get("district") or ""
        districts = dict(Division.objects.filter(level=Division.Level.DISTRICT).values_list("code", "name"))
        if district not in districts:
            district = ""
        groups: dict[str, list[dict]] = {}
        shapes = {"type": "FeatureCollection", "features": []}
        if chosen is not None:
            changes = division_change_list(
                since=chosen["changed_by"],
                until=chosen["changed_by"],
                district=district or None,
                level=None if level == "all" else level,
            ).filter(changed_by=chosen["changed_by"])
            for change in changes:
                groups.setdefault(change.district_code, []).append(division_change_row(change))
            if level in (Division.Level.DISTRICT, Division.Level.TOWNSHIP):
                shapes = division_change_shapes(changes=[row for rows in groups.values() for row in rows])
        context.update(
            steps=steps,
            step=chosen,
            level=level,
            district=district,
            districts=sorted(districts.items()),
            groups=[(code, districts.get(code, code), rows) for code, rows in sorted(groups.items())],
            total=sum(len(rows) for rows in groups.values()),
            shapes=shapes,
        )
        return context


class DivisionPageView(TemplateView):
    """A unit's page: what it is (or was), its validity, its successors and its timeline."""

    template_name = "boundaries/division.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        code = kwargs["code"]
        if not code.isdigit() or len(code) not in (6, 9, 12):
            raise NotFound(f"no division with code {code[:20]!r}")
        version = division_version_get(code=code)
        context.update(
            version=version,
            bounds=division_version_bounds(version),
            successors=division_successors(version=version),
            timeline=division_timeline(code=code),
        )
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
