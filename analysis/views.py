"""Analysis pages and fragments. Thin: they parse input, call a service or selector, and render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from calls.exceptions import CaseActionError
from calls.forms import form_errors_text
from calls.selectors import cases_visible_to

from . import services
from .forms import PriorityOverrideForm, TriageSettingsForm
from .models import TriageSettings
from .panels import analysis_panel_render
from .selectors import triage_config_active


@role_required(Role.OPERATOR)
@require_GET
def case_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's analysis section alone: the page re-fetches it when the case changes."""
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    return HttpResponse(analysis_panel_render(request, case))


@role_required(Role.SUPERVISOR)
@require_POST
def priority_override(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    form = PriorityOverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect(case)
    try:
        services.case_override_priority(
            case=case, supervisor=request.user, score=form.cleaned_data["score"], reason=form.cleaned_data["reason"]
        )
    except CaseActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Priority updated.")
    return redirect(case)


@role_required(Role.ADMIN)
def triage_settings(request: HttpRequest) -> HttpResponse:
    current = triage_config_active()
    form = TriageSettingsForm(request.POST or None, initial=current.to_dict())
    if request.method == "POST" and form.is_valid():
        saved = services.triage_settings_save(admin=request.user, **form.cleaned_data)
        messages.success(request, f"Triage settings v{saved.version} saved; the open cases are being re-scored.")
        return redirect("analysis:triage_settings")
    history = TriageSettings.objects.select_related("created_by")[:20]
    return render(request, "analysis/triage_settings.html", {"form": form, "current": current, "history": history})
