"""Training runs: start one on an imported dataset, follow it live, cancel it; the result is
registered as an immutable model version. The training itself is the pure core's
(core.emotion.encoder_version.train_encoder_model, the same code as ``train_emotion_model
--kind whisper-encoder``)."""

from __future__ import annotations

import logging
import re
import shutil
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analysis.services import emotion_model_register
from calls import broadcast
from calls.exceptions import CaseActionError, NotAllowed
from core.emotion.datasets import Clip, balanced_folds

from .models import Dataset, ImportState, RunState, TrainingRun
from .selectors import dataset_clips_now

logger = logging.getLogger(__name__)


class TrainingCancelled(Exception):
    pass


def training_run_start(*, admin: Any, dataset: Dataset, folds: int = 6, background: bool = True) -> TrainingRun:
    """Record a run and start it in the background after the commit (``background=False``: the caller
    runs ``training_run_execute`` itself, as the command does)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can train models.")
    if dataset.state != ImportState.DONE:
        raise CaseActionError(f"{dataset.name} is not imported (yet).")
    if not 2 <= folds <= 10:
        raise CaseActionError("Folds must be from 2 to 10.")
    clips = _clips(dataset)
    labels = {c.label for c in clips}
    speakers = {c.speaker for c in clips}
    if len(labels) < 2:
        raise CaseActionError(f"{dataset.name} has {len(labels)} label(s); a model needs at least two.")
    split = [f for f in balanced_folds(clips, folds) if f]
    if len(speakers) < folds or len(split) < 2 or any(len(speakers - set(held)) < 2 for held in split):
        raise CaseActionError(f"{dataset.name} has {len(speakers)} speaker(s): too few for {folds} folds by speaker "
                              "(each fold must leave at least two speakers to train on; every figure is on "
                              "speakers the model never heard).")
    run = TrainingRun.objects.create(dataset=dataset, folds=folds, started_by=admin,
                                     message="waiting for a worker")
    if background:
        transaction.on_commit(partial(training_run_dispatch, run_id=run.pk))
    return run


def training_run_dispatch(*, run_id: int) -> None:
    from analysis.dispatch import run_in_background

    from . import tasks

    if settings.ANALYSIS_BACKEND == "celery":
        tasks.train_model.delay(run_id)
    else:
        run_in_background("learning", partial(training_run_execute, run_id=run_id))


def training_run_cancel(*, run: TrainingRun, admin: Any) -> TrainingRun:
    """A waiting run stops at once; a running one at its next checkpoint (after the current fold)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can cancel a training run.")
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if not run.active:
            raise CaseActionError(f"The run has ended already ({run.get_state_display().lower()}).")
        run.cancel_requested = True
        fields = ["cancel_requested"]
        if run.state == RunState.PENDING:
            run.state, run.finished_at, run.message = RunState.CANCELLED, timezone.now(), "cancelled before it started"
            fields += ["state", "finished_at", "message"]
        run.save(update_fields=fields)
    _announce(run)
    return run


def training_run_execute(*, run_id: int) -> TrainingRun:
    """The background job."""
    # Claimed in one conditional UPDATE: a cancelled run, a redelivered task or a second runner stops here.
    claimed = TrainingRun.objects.filter(pk=run_id, state=RunState.PENDING).update(
        state=RunState.RUNNING, message="computing Whisper-encoder embeddings")
    run = TrainingRun.objects.select_related("dataset", "started_by").get(pk=run_id)
    if not claimed:
        return run
    _announce(run)
    out = trained_models_dir() / version_name(run)
    try:
        clips = _clips(run.dataset)
        from core.emotion.encoder_version import train_encoder_model

        train_encoder_model(
            Path(settings.MEDIA_ROOT), out, folds=run.folds, clips=clips, scheme=run.dataset.scheme,
            cache_dir=Path(settings.MEDIA_ROOT) / "datasets" / "embeddings", progress=False,
            progress_callback=partial(_fold_done, run.pk), log=logger.info, overwrite=True,
        )
        version = emotion_model_register(folder=out, user=run.started_by)
        _set(run, state=RunState.DONE, progress=1.0, version=version, finished_at=timezone.now(),
             message=f"registered {version.name}")
    except TrainingCancelled:
        shutil.rmtree(out, ignore_errors=True)
        _set(run, state=RunState.CANCELLED, finished_at=timezone.now(), message="cancelled")
    except Exception as exc:  # the run must end visibly, whatever happened
        logger.exception("Training run %s failed", run.pk)
        shutil.rmtree(out, ignore_errors=True)
        _set(run, state=RunState.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now(),
             message="failed")
    return run


def trained_models_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "models"


def version_name(run: TrainingRun) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", run.dataset.name.lower()).strip("-")[:60] or "dataset"
    return f"emotion-{slug}-run{run.pk}"


def _clips(dataset: Dataset) -> list[Clip]:
    """The clips in use, with their labels as they stand after any logged relabelling."""
    media = Path(settings.MEDIA_ROOT)
    return [Clip(path=media / n.clip.audio, label=n.label, speaker=n.clip.speaker, gender=n.clip.gender,
                 scheme=dataset.scheme) for n in dataset_clips_now(dataset) if not n.excluded]


def _fold_done(run_id: int, done: int, total: int, row: dict[str, Any]) -> None:
    run = TrainingRun.objects.get(pk=run_id)
    if run.cancel_requested:
        raise TrainingCancelled
    _set(run, progress=round(done / (total + 1), 3),  # the final head on everyone is the last step
         message=f"fold {done} of {total}: held-out UA {row.get('ua', 0):.3f}")


def _set(run: TrainingRun, **fields: Any) -> None:
    for key, value in fields.items():
        setattr(run, key, value)
    run.save(update_fields=list(fields))
    _announce(run)


def _announce(run: TrainingRun) -> None:
    transaction.on_commit(lambda: broadcast.training_changed(run.pk, run.state, progress=run.progress,
                                                             message=run.message))
