"""The words model registry for admins: every version with its held-out figures and lineage side by
side, training a new one from the audited calls, promoting one (after seeing what changes) and
rolling back. Thin: the registry lives in analysis.words_registry, training in words_training."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from analysis.models import WordsModelActivation, WordsModelVersion
from analysis.words_registry import (
    WordsFigures,
    words_model_challenger_current,
    words_model_challenger_set,
    words_model_previous,
    words_model_promote,
    words_model_rollback,
    words_model_trust,
    words_model_version_active,
    words_shadow_comparison,
)
from calls.exceptions import ActionRefused
from calls.forms import form_errors_text

from .forms import ActivationForm, WordsTrainingForm
from .models import WordsTrainingRun
from .words_training import audited_examples, words_training_run_start

# (label, attribute of WordsFigures): the figures compared when a version is promoted; higher is better.
COMPARED = (("AUC, emergencies over non-genuine calls", "auc_vs_non_genuine"),
            ("AUC, emergencies over routine requests", "auc_vs_routine"),
            ("incident type right", "incident_accuracy"))


def _rows(versions: list[WordsModelVersion], active: WordsModelVersion | None) -> list[dict[str, Any]]:
    return [{"version": v, "figures": WordsFigures.of(v), "active": v == active, "trust": words_model_trust(v.name),
             "lineage": v.metadata.get("lineage") or {}} for v in versions]


@role_required(Role.ADMIN)
@require_GET
def words_model_list(request: HttpRequest) -> HttpResponse:
    active = words_model_version_active()
    challenger = words_model_challenger_current()
    return render(request, "learning/words_models.html", {
        "rows": _rows(list(WordsModelVersion.objects.select_related("registered_by")), active),
        "challenger": challenger,
        "shadow": words_shadow_comparison(active, challenger) if active and challenger else None,
        "active": active, "previous": words_model_previous(active),
        "history": WordsModelActivation.objects.select_related("version", "activated_by")[:50],
        "runs": WordsTrainingRun.objects.select_related("version", "started_by")[:10],
        "audited_calls": len({e.group for e in audited_examples()}),
        "train_form": WordsTrainingForm(), "reason_form": ActivationForm(),
    })


@role_required(Role.ADMIN)
@require_POST
def words_model_train(request: HttpRequest) -> HttpResponse:
    form = WordsTrainingForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("learning:words_model_list")
    try:
        run = words_training_run_start(admin=request.user, note=form.cleaned_data["note"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Words training run #{run.pk} started: its version appears here when it is done.")
    return redirect("learning:words_model_list")


@role_required(Role.ADMIN)
@require_POST
def words_model_promote_view(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(WordsModelVersion, pk=pk)
    form = ActivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("learning:words_model_list")
    if request.POST.get("confirmed") != "yes":  # first what changes, side by side: nothing yet
        active = words_model_version_active()
        now, after = (WordsFigures.of(active) if active else None), WordsFigures.of(version)
        changes = [(label, getattr(now, key) if now else None, getattr(after, key),
                    now is not None and _weaker(getattr(now, key), getattr(after, key)))
                   for label, key in COMPARED]
        return render(request, "learning/words_model_promote_confirm.html", {
            "version": version, "active": active, "form": form, "changes": changes,
            "weaker": any(c[3] for c in changes)})
    try:
        words_model_promote(version=version, admin=request.user, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{version.name} now reads the words of every call analysed next.")
    return redirect("learning:words_model_list")


def _weaker(now: float | None, after: float | None) -> bool:
    return now is not None and (after is None or after < now - 0.005)


@role_required(Role.ADMIN)
@require_POST
def words_model_rollback_view(request: HttpRequest) -> HttpResponse:
    form = ActivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("learning:words_model_list")
    try:
        activation = words_model_rollback(admin=request.user, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Rolled back: {activation.version.name} reads the words again.")
    return redirect("learning:words_model_list")


@role_required(Role.ADMIN)
@require_POST
def words_model_challenger(request: HttpRequest) -> HttpResponse:
    """Set the challenger (``version``: a version's pk) or stop the shadowing (no ``version``)."""
    form = ActivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("learning:words_model_list")
    wanted = request.POST.get("version", "")
    version = get_object_or_404(WordsModelVersion, pk=int(wanted)) if wanted.isdigit() else None
    try:
        words_model_challenger_set(version=version, admin=request.user, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{version.name} now reads every new call in the shadow: it moves no priority."
                         if version else "No words version reads in the shadow now.")
    return redirect("learning:words_model_list")
