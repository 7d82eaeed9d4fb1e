"""Analysis pages and fragments. Thin: they parse input, call a service or selector, and render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from calls.exceptions import ActionRefused
from calls.forms import form_errors_text
from calls.models import Case
from calls.selectors import cases_visible_to
from core.triage.config import DEFAULT_CONFIG, ConfigError

from . import services
from .forms import PriorityOverrideForm, SettingsCompareForm, SettingsRestoreForm, TriageSettingsForm
from .models import EmotionModelVersion, TriageSettings
from .panels import analysis_panel_render
from .selectors import (
    emotion_model_active,
    emotion_model_labels,
    triage_config_active,
    triage_settings_config,
    triage_settings_flat,
)


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
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Priority updated.")
    return redirect(case)


def model_label_sources(active_labels: list[str]) -> dict[str, list[str]]:
    """Each label the active model and every registered version can give (as the triage reads it:
    stripped, lower-case), with the versions that give it."""
    sources: dict[str, list[str]] = {label.strip().lower(): [] for label in active_labels}
    for name, labels in EmotionModelVersion.objects.order_by("name").values_list("name", "labels"):
        for label in labels or []:
            sources.setdefault(str(label).strip().lower(), []).append(name)
    return sources


@role_required(Role.ADMIN)
def triage_settings(request: HttpRequest) -> HttpResponse:
    current = triage_config_active()
    sources = model_label_sources(emotion_model_labels(emotion_model_active()))
    form = TriageSettingsForm(request.POST or None, config=current, model_labels=list(sources), label_sources=sources)
    if request.method == "POST":
        if form.is_valid():
            saved = services.triage_settings_save(admin=request.user, **form.cleaned_data)
            messages.success(request, f"Triage settings v{saved.version} saved; the open cases are being re-scored.")
            return redirect("analysis:triage_settings")
        messages.error(request, form_errors_text(form))
    history = list(TriageSettings.objects.select_related("created_by"))
    return render(request, "analysis/triage_settings.html", {
        "form": form, "current": current, "history": history, "defaults_stored": any(
            s.version == DEFAULT_CONFIG.version for s in history), "restore_form": SettingsRestoreForm(),
    })


@role_required(Role.ADMIN)
@require_GET
def triage_settings_compare(request: HttpRequest) -> HttpResponse:
    form = SettingsCompareForm(request.GET)
    configs = [triage_settings_config(form.cleaned_data[k]) for k in ("a", "b")] if form.is_valid() else []
    if not configs or None in configs:
        messages.error(request, "Choose two existing versions to compare.")
        return redirect("analysis:triage_settings")
    a, b = (triage_settings_flat(c) for c in configs if c is not None)
    rows = [(name, a.get(name), b.get(name), a.get(name) != b.get(name)) for name in dict.fromkeys([*a, *b])]
    return render(request, "analysis/triage_settings_compare.html", {"configs": configs, "rows": rows,
                                                                      "changed": sum(r[3] for r in rows)})


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def triage_settings_restore(request: HttpRequest, version: int) -> HttpResponse:
    """GET (or a POST without confirmed=yes) shows what a restore changes, with a form of its own;
    only the confirmed POST restores (every open case is re-scored)."""
    form = SettingsRestoreForm(request.POST or None)
    if request.POST.get("confirmed") != "yes":
        target, current = triage_settings_config(version), triage_config_active()
        if target is None:
            messages.error(request, f"There is no triage settings v{version} to restore.")
            return redirect("analysis:triage_settings")
        now, then = triage_settings_flat(current), triage_settings_flat(target)
        rows = [(name, now.get(name), then.get(name)) for name in dict.fromkeys([*now, *then])
                if now.get(name) != then.get(name)]
        return render(request, "analysis/triage_settings_restore.html", {
            "version": version, "current": current, "rows": rows, "form": form,
            "open_cases": Case.objects.active().count()})
    try:
        saved = services.triage_settings_restore(admin=request.user, version=version,
                                                 note=form.data.get("note", "") if form.is_valid() else "")
    except (ActionRefused, ConfigError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"v{version} restored as v{saved.version}; the open cases are being re-scored.")
    return redirect("analysis:triage_settings")
