"""The emotion model registry for admins: versions with their figures and lineage, compare two,
promote one, roll back. Thin: the registry's reads and changes live in analysis (selectors, services)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.permissions import role_required
from analysis import selectors, services
from analysis.baselines import voice_baseline
from analysis.models import EmotionModelActivation, EmotionModelVersion
from audits.metrics import DashboardFilter, dashboard_figures
from calls.exceptions import ActionRefused
from calls.forms import form_errors_text
from calls.media_types import harden_media_response, media_type_of_extension
from core import charts
from core.datasets.attributes import ATTRIBUTES
from core.emotion.voice_baseline import PRIOR_CALLS, WINDOW_CALLS
from core.triage.acoustic import trust_explained

from . import selectors as learning_selectors
from . import services as learning
from . import training
from .evaluation import evaluation_start
from .forms import (
    ActivationForm,
    ClipChangeForm,
    CompareForm,
    DatasetImportForm,
    EvaluationForm,
    PromoteForm,
    TrainingRunForm,
)
from .model_pages import dataset_lineage, promotion_changes, shown_figures, training_summary
from .models import Dataset, DatasetClip, Evaluation, ImportState, RunState, TrainingRun
from .selectors import attribute_groups, dataset_clips_now, dataset_counts


def _rows(versions: list[EmotionModelVersion]) -> list[dict]:
    """Each version with its figures, state, trust and promotion blockers (the shared reads done once)."""
    active = selectors.emotion_model_version_active()
    challenger = selectors.emotion_model_challenger_current()
    config = selectors.triage_config_active()
    reliabilities = selectors.emotion_model_reliabilities(versions)
    rows = []
    for v in versions:
        trust, why = trust_explained(reliabilities[v.name])
        row = {"version": v, "figures": selectors.emotion_model_figures(v), "active": v == active,
               "challenger": v == challenger, "trust": trust, "trust_why": why, "reliability": reliabilities[v.name],
               "blockers": selectors.emotion_model_promotion_blockers(v, config)}
        rows.append(row | {"shown": shown_figures(row)})
    return rows


@role_required(Role.ADMIN)
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    rows = _rows(list(EmotionModelVersion.objects.all()))
    active = next((r["version"] for r in rows if r["active"]), None)
    history = EmotionModelActivation.objects.select_related("version", "activated_by")[:50]
    previous = selectors.emotion_model_previous(active)
    return render(request, "learning/model_list.html", {
        "rows": rows, "active": active, "history": history, "previous": previous,
        "rollback_form": ActivationForm(),
    })


@role_required(Role.ADMIN)
@require_GET
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(EmotionModelVersion, pk=pk)
    meta = version.metadata
    training_settings, training_history = training_summary(meta.get("training") or {})
    return render(request, "learning/model_detail.html", {
        "row": _rows([version])[0], "meta": meta, "dataset": meta.get("dataset") or {},
        "datasets": dataset_lineage(meta.get("dataset") or {}), "training_settings": training_settings,
        "training_history": training_history, "libraries": meta.get("library_versions") or {},
        "form": ActivationForm(), "promote_form": PromoteForm(), "others": EmotionModelVersion.objects.exclude(pk=pk),
        **_baseline_context(meta),
    })


def _baseline_context(meta: dict[str, Any]) -> dict[str, Any]:
    """For a version that adapts to its deployment: how many calls its baseline has learnt from."""
    if not (meta.get("training") or {}).get("adapts_to_deployment"):
        return {"adapts": False}
    baseline = voice_baseline(str(meta.get("version")))
    return {"adapts": True, "baseline_calls": baseline.calls if baseline else 0,
            "window_calls": WINDOW_CALLS, "prior_calls": PRIOR_CALLS}


@role_required(Role.ADMIN)
@require_GET
def model_confusion(request: HttpRequest, pk: int) -> FileResponse:
    version = get_object_or_404(EmotionModelVersion, pk=pk)
    folder = selectors.emotion_model_folder(version).resolve()
    picture = (folder / Path(str(version.metadata.get("confusion_png", "confusion.png"))).name).resolve()
    if picture.parent != folder or not picture.is_file():
        raise Http404("This version has no confusion-matrix picture.")
    return FileResponse(picture.open("rb"), content_type="image/png")


@role_required(Role.ADMIN)
@require_GET
def model_compare(request: HttpRequest) -> HttpResponse:
    form = CompareForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Choose two versions to compare.")
        return redirect("learning:model_list")
    active = selectors.emotion_model_version_active()
    pair = [get_object_or_404(EmotionModelVersion, pk=form.cleaned_data[key]) for key in ("a", "b")]
    rows = _rows(pair)
    labels = list(dict.fromkeys(pair[0].labels + pair[1].labels))
    recall = [(label, [r["figures"].recall.get(label) for r in rows]) for label in labels]
    same_protocol = rows[0]["figures"].protocol == rows[1]["figures"].protocol
    audited = [dashboard_figures(DashboardFilter(model_version=v.name))["all"] for v in pair]
    challenger = selectors.emotion_model_challenger_current()
    shadow = None
    if active is not None and challenger is not None and {active, challenger} == set(pair):
        shadow = selectors.shadow_comparison(active, challenger)
    return render(request, "learning/model_compare.html", {"rows": rows, "recall": recall,
                                                           "evaluations": [
                                                               {"evaluation": e.evaluation,
                                                                "pairs": list(zip(rows, e.figures, strict=True))}
                                                               for e in learning_selectors.evaluations_of(pair)],
                                                           "evaluation_form": EvaluationForm(),
                                                           "same_protocol": same_protocol, "shadow": shadow,
                                                           "audited": [(r, a["audited"], [a["category_agreement"],
                                                                        a["prank_false_positive_rate"], a["prank_recall"]])
                                                                       for r, a in zip(rows, audited, strict=True)],
                                                           "challenger": challenger, "active": active})


@role_required(Role.ADMIN)
@require_POST
def model_evaluate(request: HttpRequest) -> HttpResponse:
    """Judge two versions on the same unheard speakers of a dataset (back to their compare page)."""
    pair = CompareForm(request.POST)
    form = EvaluationForm(request.POST)
    if not pair.is_valid():
        messages.error(request, "Choose two versions to compare.")
        return redirect("learning:model_list")
    versions = [get_object_or_404(EmotionModelVersion, pk=pair.cleaned_data[key]) for key in ("a", "b")]
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
    else:
        try:
            evaluation = evaluation_start(admin=request.user, versions=versions, dataset=form.cleaned_data["dataset"])
        except ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Judging both on {len(evaluation.speakers)} unheard speakers of "
                                      f"{evaluation.dataset.name}: the figures appear below when done.")
    return redirect(f"{reverse('learning:model_compare')}?a={versions[0].pk}&b={versions[1].pk}#evaluations")


@role_required(Role.ADMIN)
@require_GET
def evaluation_confusion(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    evaluation = get_object_or_404(Evaluation, pk=pk, state=RunState.DONE)
    figures = evaluation.results.get(str(version))
    if figures is None:
        raise Http404("This evaluation did not judge that version.")
    name = get_object_or_404(EmotionModelVersion, pk=version).name
    png = charts.confusion_png(figures["clean"]["confusion"], figures["labels"],
                               f"{name} on {evaluation.dataset.name} (unheard speakers), UA "
                               f"{figures['clean']['unweighted_accuracy']:.3f}",
                               rows="the clip's label", columns="the model said")
    return HttpResponse(png, content_type="image/png")


@role_required(Role.ADMIN)
@require_POST
def model_promote(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(EmotionModelVersion, pk=pk)
    form = PromoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("learning:model_detail", pk=pk)
    if request.POST.get("confirmed") != "yes":
        # First what changes, side by side, with a warning when the version is weaker: nothing yet.
        active = selectors.emotion_model_version_active()
        rows = _rows([version] if active is None or active == version else [active, version])
        changes, warnings = promotion_changes(rows[0] if len(rows) == 2 else None, rows[-1])
        return render(request, "learning/model_promote_confirm.html", {
            "version": version, "active": active, "form": form, "changes": changes, "warnings": warnings,
            "blockers": rows[-1]["blockers"]})
    try:
        services.emotion_model_promote(version=version, admin=request.user, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
        return redirect("learning:model_detail", pk=pk)
    messages.success(request, f"{version.name} is now the active emotion model: the next call analysed uses it.")
    if form.cleaned_data["reanalyse"]:
        count = services.open_cases_reanalyse_emotion(admin=request.user)
        messages.info(request, f"Re-analysing the voices of {count} open case{'s' if count != 1 else ''} with it.")
    return redirect("learning:model_list")


@role_required(Role.ADMIN)
@require_POST
def model_rollback(request: HttpRequest) -> HttpResponse:
    form = ActivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("learning:model_list")
    try:
        activation = services.emotion_model_rollback(admin=request.user, reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Rolled back: {activation.version.name} is the active emotion model again.")
    return redirect("learning:model_list")


@role_required(Role.ADMIN)
def dataset_list(request: HttpRequest) -> HttpResponse:
    form = DatasetImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
        else:
            try:
                dataset = learning.dataset_create(admin=request.user, name=form.cleaned_data["name"],
                                                  archive=form.cleaned_data["archive"],
                                                  folder=form.cleaned_data["folder"])
            except ActionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Importing {dataset.name}: this page follows its progress.")
                return redirect(dataset)
    datasets = Dataset.objects.select_related("created_by")
    return render(request, "learning/dataset_list.html", {"form": form, "datasets": datasets})


@role_required(Role.ADMIN)
@require_GET
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = get_object_or_404(Dataset, pk=pk)
    counts = dataset_counts(dataset)
    table = [(label, [counts.by_label_gender.get((label, g), 0) for g in counts.genders]) for label in counts.labels]
    return render(request, "learning/dataset_detail.html", {
        "dataset": dataset, "counts": counts, "table": table,
        "running": dataset.state in (ImportState.PENDING, ImportState.IMPORTING),
        "clips": dataset_clips_now(dataset)[:200], "attributes": ATTRIBUTES,
    })


@role_required(Role.ADMIN)
@require_GET
def dataset_chart(request: HttpRequest, pk: int) -> HttpResponse:
    counts = dataset_counts(get_object_or_404(Dataset, pk=pk))
    series: dict[str, Sequence[float]] = {
        g: [counts.by_label_gender.get((label, g), 0) for label in counts.labels] for g in counts.genders
    }
    png = charts.bars_png(counts.labels, series, "clips per label and gender", "clips")
    return HttpResponse(png, content_type="image/png")


@role_required(Role.ADMIN)
def training_list(request: HttpRequest) -> HttpResponse:
    form = TrainingRunForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
        else:
            try:
                data = form.cleaned_data
                run = training.training_run_start(admin=request.user, dataset=data["dataset"], folds=data["folds"],
                                                  extra_datasets=list(data["extra_datasets"]),
                                                  check_dataset=data["check_dataset"],
                                                  held_out_speakers=data["held_out_speakers"])
            except ActionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Training on {run.dataset.name} started.")
                return redirect(run)
    runs = TrainingRun.objects.select_related("dataset", "check_dataset", "version", "started_by").prefetch_related(
        "extra_datasets")[:50]
    return render(request, "learning/training_list.html", {"form": form, "runs": runs})


@role_required(Role.ADMIN)
@require_GET
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TrainingRun.objects.select_related("dataset", "check_dataset", "version", "started_by"),
                            pk=pk)
    return render(request, "learning/training_detail.html", {"run": run})


@role_required(Role.ADMIN)
@require_POST
def training_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(TrainingRun, pk=pk)
    try:
        training.training_run_cancel(run=run, admin=request.user)
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Cancelling: the run stops after its current step.")
    return redirect(run)


@role_required(Role.ADMIN)
@require_POST
def model_challenger(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(EmotionModelVersion, pk=pk)
    form = ActivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect("learning:model_detail", pk=pk)
    stop = request.POST.get("action") == "stop"
    try:
        services.emotion_model_challenger_set(version=None if stop else version, admin=request.user,
                                              reason=form.cleaned_data["reason"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "No challenger now." if stop else
                         f"{version.name} now scores new calls in the shadow of the active version (never their priority).")
    return redirect("learning:model_detail", pk=pk)


@role_required(Role.ADMIN)
@require_GET
def dataset_attribute_chart(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    if name not in ATTRIBUTES:
        raise Http404("No such attribute.")
    groups = attribute_groups(get_object_or_404(Dataset, pk=pk), name)
    return HttpResponse(charts.boxes_png(groups, ATTRIBUTES[name], name), content_type="image/png")


@role_required(Role.ADMIN)
@require_GET
def clip_audio(request: HttpRequest, pk: int) -> HttpResponseBase:
    """An imported clip, inline for the dataset page's <audio>: a type only from the audio table
    (anything else is plain bytes), nosniff and a sandboxing CSP, as for recordings."""
    clip = get_object_or_404(DatasetClip, pk=pk)
    media = Path(settings.MEDIA_ROOT).resolve()
    path = (media / clip.audio).resolve()
    if not path.is_relative_to(media) or not path.is_file():
        raise Http404("The clip's audio is missing.")
    mime = media_type_of_extension(path.suffix).mime
    return harden_media_response(FileResponse(path.open("rb"), content_type=mime))


@role_required(Role.ADMIN)
@require_POST
def clip_change(request: HttpRequest, pk: int) -> HttpResponse:
    clip = get_object_or_404(DatasetClip, pk=pk)
    form = ClipChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
    else:
        try:
            learning.clip_change(clip=clip, admin=request.user, label=form.cleaned_data["label"],
                                 excluded=form.cleaned_data["excluded"], reason=form.cleaned_data["reason"])
        except ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{clip.original_name}: change logged.")
    return redirect(clip.dataset)
