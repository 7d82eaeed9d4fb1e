"""Evaluations: one or two model versions judged on the same clips of an imported dataset, from the
speakers none of them heard, so that a comparison is on equal terms. The judging is the pure
core's (core.emotion.evaluation); here the job is recorded, run in the background and followed live."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from analysis.models import EmotionModelVersion
from analysis.selectors import emotion_model_folder
from calls.exceptions import NotAllowed
from core.emotion.datasets import Clip

from .exceptions import DatasetRefused, JobRefused
from .jobs import EVALUATE_MODELS, job_announce, job_dispatch, job_update
from .models import Dataset, Evaluation, ImportState, RunState
from .training import dataset_clips

logger = logging.getLogger(__name__)
MIN_SPEAKERS = 2


def heard_speakers(version: EmotionModelVersion, dataset: Dataset, speakers: set[str]) -> set[str]:
    """Of the dataset's `speakers`, those the version was trained on, by its recorded lineage: the same naming
    scheme and speaker id, or the same imported dataset (by name; datasets trained on together name
    their speakers "dataset/speaker"). Cautious by design: a speaker id the version lists under this
    dataset's scheme counts as heard even when it may be another person."""
    lineage = version.metadata.get("dataset", {}) or {}
    trained = {str(s) for s in (version.metadata.get("speaker_genders") or {})}
    schemes = set(str(lineage.get("scheme", "")).split("+"))
    names = set(lineage.get("names") or [])
    return {s for s in speakers
            if f"{dataset.name}/{s}" in trained
            or (s in trained and (dataset.scheme in schemes or dataset.name in names))}


def unheard_speakers(versions: Sequence[EmotionModelVersion], dataset: Dataset) -> list[str]:
    speakers = set(dataset.clips.values_list("speaker", flat=True).distinct())  # read once for every version
    heard = set().union(*(heard_speakers(v, dataset, speakers) for v in versions))
    return sorted(speakers - heard)


def evaluation_start(*, admin: Any, versions: Sequence[EmotionModelVersion], dataset: Dataset,
                     background: bool = True) -> Evaluation:
    """Record an evaluation of `versions` on the dataset's speakers that none of them heard and start it
    after the commit (``background=False``: the caller runs ``evaluation_execute``)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can evaluate models.")
    versions = list(dict.fromkeys(versions))
    if not 1 <= len(versions) <= 2:
        raise JobRefused("Evaluate one version, or two side by side.")
    if dataset.state != ImportState.DONE:
        raise DatasetRefused(f"{dataset.name} is not imported (yet).")
    speakers = unheard_speakers(versions, dataset)
    if len(speakers) < MIN_SPEAKERS:
        raise DatasetRefused(f"{dataset.name} has {len(speakers)} speaker(s) that {_names(versions)} never heard; "
                              f"judging needs at least {MIN_SPEAKERS}.")
    clips = _clips(dataset, speakers)
    for version in versions:
        shared = set(version.labels) & {c.label for c in clips}
        if len(shared) < 2:
            raise DatasetRefused(f"{dataset.name} shares {len(shared)} label(s) with {version.name}; judging needs "
                                  "at least two.")
    evaluation = Evaluation.objects.create(dataset=dataset, speakers=speakers, started_by=admin,
                                           message="waiting for a worker")
    evaluation.versions.set(versions)
    if background:
        transaction.on_commit(partial(evaluation_dispatch, evaluation_id=evaluation.pk))
    return evaluation


def evaluation_dispatch(*, evaluation_id: int) -> None:
    job_dispatch(task=EVALUATE_MODELS, job_id=evaluation_id,
                 run=partial(evaluation_execute, evaluation_id=evaluation_id))


def evaluation_execute(*, evaluation_id: int) -> Evaluation:
    """The background job: each version in turn on the same clips; figures stored per version id."""
    claimed = Evaluation.objects.filter(pk=evaluation_id, state=RunState.PENDING).update(
        state=RunState.RUNNING, message="judging")
    evaluation = Evaluation.objects.select_related("dataset").get(pk=evaluation_id)
    if not claimed:
        return evaluation
    job_announce(evaluation)
    try:
        from core.emotion.classifier import load_classifier
        from core.emotion.evaluation import evaluate_on_clips

        clips = _clips(evaluation.dataset, evaluation.speakers)
        versions = list(evaluation.versions.order_by("pk"))
        results: dict[str, Any] = {}
        for i, version in enumerate(versions):
            job_update(evaluation, message=f"judging {version.name} on {len(clips)} clips")
            results[str(version.pk)] = evaluate_on_clips(
                load_classifier(emotion_model_folder(version)), clips, progress=partial(_clip_done, evaluation, i, len(versions)))
        job_update(evaluation, state=RunState.DONE, progress=1.0, results=results, finished_at=timezone.now(),
             message=f"judged on {len(clips)} clips of {len(evaluation.speakers)} unheard speakers")
    except Exception as exc:  # the job must end visibly, whatever happened
        logger.exception("Evaluation %s failed", evaluation.pk)
        job_update(evaluation, state=RunState.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now(),
             message="failed")
    return evaluation


def _clips(dataset: Dataset, speakers: Sequence[str]) -> list[Clip]:
    wanted = set(speakers)
    return [c for c in dataset_clips(dataset) if c.speaker in wanted]


def _names(versions: Sequence[EmotionModelVersion]) -> str:
    return " or ".join(v.name for v in versions)


def _clip_done(evaluation: Evaluation, index: int, count: int, done: int, total: int) -> None:
    if done % 10 == 0 or done == total:
        job_update(evaluation, progress=round((index + done / total) / count, 3))
