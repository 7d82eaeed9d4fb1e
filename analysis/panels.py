"""The analysis app's sections of the case page: why the call ranks where it does, and the
supervisor's priority override. The analysis section refreshes itself when the case changes."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Role
from calls.models import Case
from calls.panels import CasePanel

from .forms import PriorityOverrideForm
from .selectors import case_panel_context


def analysis_panel_render(request: HttpRequest, case: Case) -> SafeString:
    return mark_safe(render_to_string("analysis/_case_analysis.html", case_panel_context(case), request=request))


def _override_panel_render(request: HttpRequest, case: Case) -> SafeString | None:
    if not request.user.has_role(Role.SUPERVISOR):  # type: ignore[union-attr]
        return None
    context = {"case": case, "override_form": PriorityOverrideForm()}
    return mark_safe(render_to_string("analysis/_priority_override.html", context, request=request))


ANALYSIS_PANEL = CasePanel(
    name="analysis", column="main", order=10, render=analysis_panel_render,
    live_url=lambda case: reverse("analysis:case_panel", args=[case.pk]),
)
OVERRIDE_PANEL = CasePanel(name="priority_override", column="side", order=30, render=_override_panel_render)
