"""Training runs: start one on an imported dataset, follow it live, cancel it; the result is
registered as an immutable model version. The training itself is the pure core's
(core.emotion.encoder_version.train_encoder_model, the same code as ``train_emotion_model
--kind whisper-encoder``)."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analysis.services import emotion_model_register
from calls.exceptions import NotAllowed
from core.emotion.datasets import Clip, balanced_folds

from .exceptions import DatasetRefused, JobRefused
from .jobs import TRAIN_MODEL, job_announce, job_dispatch, job_update
from .models import Dataset, DatasetClip, ImportState, RunState, TrainingRun
from .selectors import dataset_clips_now

logger = logging.getLogger(__name__)


class TrainingCancelled(Exception):
    pass


def training_run_start(*, admin: Any, dataset: Dataset, folds: int = 6, extra_datasets: Sequence[Dataset] = (),
                       check_dataset: Dataset | None = None, held_out_speakers: Sequence[str] = (),
                       background: bool = True) -> TrainingRun:
    """Record a run and start it in the background after the commit (``background=False``: the caller
    runs ``training_run_execute`` itself, as the command does)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can train models.")
    datasets = list(dict.fromkeys([dataset, *extra_datasets]))
    for each in [*datasets, *([check_dataset] if check_dataset else [])]:
        if each.state != ImportState.DONE:
            raise DatasetRefused(f"{each.name} is not imported (yet).")
    if not 2 <= folds <= 10:
        raise JobRefused("Folds must be from 2 to 10.")
    clips = training_clips(datasets)
    labels = {c.label for c in clips}
    speakers = {c.speaker for c in clips}
    if len(labels) < 2:
        raise DatasetRefused(f"{_names(datasets)} has {len(labels)} label(s); a model needs at least two.")
    held_out = sorted(set(held_out_speakers))
    if held_out:
        _check_held_out(held_out, speakers, clips)
    elif not _folds_usable(clips, speakers, folds):
        raise DatasetRefused(f"{_names(datasets)} has {len(speakers)} speaker(s): too few for {folds} folds by speaker "
                              "(each fold must leave at least two speakers to train on; every figure is on "
                              "speakers the model never heard).")
    if check_dataset is not None:
        _check_corpus_usable(check_dataset, datasets, labels)
    run = TrainingRun.objects.create(dataset=dataset, folds=folds, started_by=admin, check_dataset=check_dataset,
                                     held_out_speakers=held_out, message="waiting for a worker")
    run.extra_datasets.set(datasets[1:])
    if background:
        transaction.on_commit(partial(training_run_dispatch, run_id=run.pk))
    return run


def _folds_usable(clips: list[Clip], speakers: set[str], folds: int) -> bool:
    split = [f for f in balanced_folds(clips, folds) if f]
    return len(speakers) >= folds and len(split) >= 2 and all(len(speakers - set(held)) >= 2 for held in split)


def _check_held_out(held_out: list[str], speakers: set[str], clips: list[Clip]) -> None:
    unknown = sorted(set(held_out) - speakers)
    if unknown:
        raise DatasetRefused(f"No speaker {', '.join(unknown)} in the data (speakers: {', '.join(sorted(speakers))}).")
    training = [c for c in clips if c.speaker not in held_out]
    if len({c.speaker for c in training}) < 2 or len({c.label for c in training}) < 2:
        raise DatasetRefused("The held-out speakers leave too little to train on (at least two speakers and two "
                              "labels must remain).")


def _check_corpus_usable(check: Dataset, datasets: list[Dataset], labels: set[str]) -> None:
    """The cross-corpus check must be a corpus the model never trains on, with labels to judge."""
    if check in datasets:
        raise DatasetRefused(f"{check.name} is trained on: the cross-corpus check needs a dataset the model never hears.")
    shared = labels & {c.label for c in dataset_clips(check)}
    if len(shared) < 2:
        raise DatasetRefused(f"{check.name} shares {len(shared)} label(s) with the training data; the cross-corpus "
                              "check needs at least two.")
    overlap = DatasetClip.objects.filter(dataset=check, sha256__in=DatasetClip.objects.filter(
        dataset__in=datasets).values("sha256")).count()
    if overlap:
        raise DatasetRefused(f"{overlap} clip(s) of {check.name} are also in the training data: the cross-corpus "
                              "check would not be on unheard audio.")


def _names(datasets: Sequence[Dataset]) -> str:
    return " + ".join(d.name for d in datasets)


def training_run_dispatch(*, run_id: int) -> None:
    job_dispatch(task=TRAIN_MODEL, job_id=run_id, run=partial(training_run_execute, run_id=run_id))


def training_run_cancel(*, run: TrainingRun, admin: Any) -> TrainingRun:
    """A waiting run stops at once; a running one at its next checkpoint (after the current fold)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can cancel a training run.")
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if not run.active:
            raise JobRefused(f"The run has ended already ({run.get_state_display().lower()}).")
        run.cancel_requested = True
        fields = ["cancel_requested"]
        if run.state == RunState.PENDING:
            run.state, run.finished_at, run.message = RunState.CANCELLED, timezone.now(), "cancelled before it started"
            fields += ["state", "finished_at", "message"]
        run.save(update_fields=fields)
    job_announce(run)
    return run


def training_run_execute(*, run_id: int) -> TrainingRun:
    """The background job."""
    # Claimed in one conditional UPDATE: a cancelled run, a redelivered task or a second runner stops here.
    claimed = TrainingRun.objects.filter(pk=run_id, state=RunState.PENDING).update(
        state=RunState.RUNNING, message="computing Whisper-encoder embeddings")
    run = TrainingRun.objects.select_related("dataset", "check_dataset", "started_by").get(pk=run_id)
    if not claimed:
        return run
    job_announce(run)
    out = trained_models_dir() / version_name(run)
    try:
        datasets = [run.dataset, *run.extra_datasets.order_by("pk")]
        from core.emotion.encoder_version import train_encoder_model

        check = run.check_dataset
        train_encoder_model(
            Path(settings.MEDIA_ROOT), out, folds=run.folds, clips=training_clips(datasets),
            scheme="+".join(sorted({d.scheme for d in datasets})),
            lineage={"names": [d.name for d in datasets], "ids": [d.pk for d in datasets]},
            cross_corpus=(dataset_clips(check), check.name) if check is not None else None,
            held_out_speakers=run.held_out_speakers or None,
            cache_dir=embeddings_dir(), progress=False,
            progress_callback=partial(_fold_done, run.pk), log=logger.info, overwrite=True,
        )
        version = emotion_model_register(folder=out, user=run.started_by)
        job_update(run, state=RunState.DONE, progress=1.0, version=version, finished_at=timezone.now(),
             message=f"registered {version.name}")
    except TrainingCancelled:
        shutil.rmtree(out, ignore_errors=True)
        job_update(run, state=RunState.CANCELLED, finished_at=timezone.now(), message="cancelled")
    except Exception as exc:  # the run must end visibly, whatever happened
        logger.exception("Training run %s failed", run.pk)
        shutil.rmtree(out, ignore_errors=True)
        job_update(run, state=RunState.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now(),
             message="failed")
    return run


def trained_models_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "models"


def version_name(run: TrainingRun) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", run.dataset.name.lower()).strip("-")[:60] or "dataset"
    return f"emotion-{slug}-run{run.pk}"


def embeddings_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "datasets" / "embeddings"


def dataset_clips(dataset: Dataset) -> list[Clip]:
    """The clips in use, with their labels as they stand after any logged relabelling."""
    media = Path(settings.MEDIA_ROOT)
    return [Clip(path=media / n.clip.audio, label=n.label, speaker=n.clip.speaker, gender=n.clip.gender,
                 scheme=dataset.scheme) for n in dataset_clips_now(dataset) if not n.excluded]


def training_clips(datasets: Sequence[Dataset]) -> list[Clip]:
    """The clips of one dataset, or of several with each speaker named after its dataset (two corpora's
    speaker "03" are two people)."""
    if len(datasets) == 1:
        return dataset_clips(datasets[0])
    return [replace(c, speaker=f"{d.name}/{c.speaker}") for d in datasets for c in dataset_clips(d)]


def _fold_done(run_id: int, done: int, total: int, row: dict[str, Any]) -> None:
    run = TrainingRun.objects.get(pk=run_id)
    if run.cancel_requested:
        raise TrainingCancelled
    job_update(run, progress=round(done / (total + 1), 3),  # the final head on everyone is the last step
               message=f"fold {done} of {total}: held-out UA {row.get('ua', 0):.3f}")
