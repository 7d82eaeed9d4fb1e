"""Training the words model from the agency's own audited calls.

A run learns from the call benchmark's tuning part (WORDS_TRAINING_DATA_DIR/tuning.jsonl: scripts'
words and the transcriber's renderings of them) plus every audited call: its transcript as the
transcriber heard it, and a supervisor's corrected transcript when there is one, labelled by the
supervisor's latest answer (a genuine emergency or not; the incident type when genuine). It is
judged on the benchmark's held-out part (heldout.jsonl), never trained on, and registered as an
immutable words version with its lineage; an admin promotes it on the Models page.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analysis.models import WordsModelVersion
from analysis.words_registry import words_model_register, words_model_version_active
from audits.metrics import DashboardFilter, answered_items
from calls.exceptions import NotAllowed

from .exceptions import JobRefused
from .jobs import TRAIN_WORDS_MODEL, job_announce, job_dispatch, job_update
from .models import RunState, WordsTrainingRun
from .training import trained_models_dir

logger = logging.getLogger(__name__)

LICENCE = ("the project's own call scripts and their synthetic telephone renderings (benchmarks/callset), and "
           "this deployment's audited calls: the agency's own data")


@dataclass(frozen=True)
class Example:
    """One transcript to learn from: its words, whether it was an emergency, and the call it came from
    (a call's renderings never sit on both sides of a cross-validation fold)."""

    text: str
    emergency: bool
    group: str
    incident: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        return cls(text=str(data["text"]), emergency=bool(data["emergency"]), group=str(data["group"]),
                   incident=data.get("incident") or None)


def _data_file(name: str) -> Path:
    return Path(settings.WORDS_TRAINING_DATA_DIR) / name


def benchmark_examples() -> list[Example]:
    return [Example.from_dict(json.loads(line)) for line in _data_file("tuning.jsonl").read_text().splitlines()
            if line.strip()]


def heldout_examples() -> list[dict[str, Any]]:
    return [json.loads(line) for line in _data_file("heldout.jsonl").read_text().splitlines() if line.strip()]


def audited_examples() -> list[Example]:
    """Every audited call's words with its supervisor's standing answer (the primary one, as the
    audit dashboard reads it: a superseded answer is not used, a blind second review does not speak
    for the call)."""
    examples = []
    for answered in answered_items(DashboardFilter()):
        audit, item = answered.primary, answered.item
        incident = audit.incident_type if audit.genuine else None
        for text in sorted({item.transcript.strip(), audit.corrected_transcript.strip()} - {""}):
            examples.append(Example(text=text, emergency=audit.genuine, group=f"case-{item.case_id}",
                                    incident=incident))
    return examples


def words_training_run_start(*, admin: Any, note: str = "") -> WordsTrainingRun:
    """Record a run and start it in the background (after the commit)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can train the words model.")
    if WordsTrainingRun.objects.filter(state__in=[RunState.PENDING, RunState.RUNNING]).exists():
        raise JobRefused("A words training run is under way already; wait for it to end.")
    if not _data_file("tuning.jsonl").is_file() or not _data_file("heldout.jsonl").is_file():
        raise JobRefused(f"The words training data is not in {settings.WORDS_TRAINING_DATA_DIR} "
                         "(benchmarks/train_words_model.py --export-data writes it).")
    with transaction.atomic():
        run = WordsTrainingRun.objects.create(started_by=admin, note=note.strip()[:300])
        transaction.on_commit(partial(words_training_run_dispatch, run_id=run.pk))
    job_announce(run)
    return run


def words_training_run_dispatch(*, run_id: int) -> None:
    job_dispatch(task=TRAIN_WORDS_MODEL, job_id=run_id, run=partial(words_training_run_execute, run_id=run_id))


def words_training_run_execute(*, run_id: int) -> WordsTrainingRun:
    """The background job: train, judge on the held-out part, register."""
    claimed = WordsTrainingRun.objects.filter(pk=run_id, state=RunState.PENDING).update(
        state=RunState.RUNNING, message="reading the audited calls")
    run = WordsTrainingRun.objects.select_related("started_by").get(pk=run_id)
    if not claimed:
        return run  # a redelivered task or a second runner
    job_announce(run)
    out = trained_models_dir() / f"words-run{run.pk}"
    try:
        version = _train(run, out)
        job_update(run, state=RunState.DONE, progress=1.0, version=version, finished_at=timezone.now(),
                   message=f"registered {version.name}")
    except Exception as exc:  # the run must end visibly, whatever happened
        logger.exception("Words training run %s failed", run.pk)
        shutil.rmtree(out, ignore_errors=True)
        job_update(run, state=RunState.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now(),
                   message="failed")
    return run


def _train(run: WordsTrainingRun, out: Path) -> WordsModelVersion:
    from core.text.lexicon import incident_phrases, matcher_for
    from core.text.words_model import heldout_figures, reliability_of, train_words_model

    base, audited = benchmark_examples(), audited_examples()
    job_update(run, audited_calls=len({e.group for e in audited}), progress=0.1,
               message=f"training on {len(base)} benchmark and {len(audited)} audited transcripts")
    examples = base + audited
    parent = words_model_version_active()
    model = train_words_model(
        [e.text for e in examples], [e.emergency for e in examples], [e.group for e in examples],
        incident_types=[e.incident for e in examples],
        incident_phrases=incident_phrases(matcher_for(settings.EXTRA_LEXICON_DIR).lexicon),
        metadata={"version": out.name, "licence": LICENCE, "labels": ["emergency", "other"],
                  "training": "call benchmark, tuning part, and the audited calls (supervisors' answers)",
                  "lineage": {"benchmark_examples": len(base), "audited_examples": len(audited),
                              "audited_calls": run.audited_calls, "parent": parent.name if parent else None,
                              "training_run": run.pk, "note": run.note}},
    )
    job_update(run, progress=0.8, message="judging on the benchmark's held-out part")
    figures = {**heldout_figures(model, heldout_examples()), "tuning_examples": len(examples)}
    model.metadata["figures"] = figures
    model.metadata["reliability"] = reliability_of(figures)
    model.save(out)
    return words_model_register(folder=out, user=run.started_by)
