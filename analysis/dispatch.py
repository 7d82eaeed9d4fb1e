"""Where background work runs: Celery workers (production, CI) or threads in this process (embedded).

One entry point per kind of work; the work itself is in :mod:`analysis.pipeline` and
:mod:`analysis.services`, the Celery wrappers in :mod:`analysis.tasks`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from . import pipeline, services, tasks
from .models import AnalysisStep, StepState

logger = logging.getLogger(__name__)

_executors: dict[str, ThreadPoolExecutor] = {}
_warmed_up = False


def analysis_dispatch(*, recording_id: int, jobs: tuple[str, ...] = pipeline.JOBS) -> None:
    """Start the analysis jobs of a recording (call after the recording's transaction commits), and
    note each hand-over on its steps. A hand-over that fails (the broker is down) is logged, not
    raised: the call is saved already, and the sweep (``analysis_dispatch_forgotten``) retries it."""
    for job in jobs:
        try:
            if settings.ANALYSIS_BACKEND == "celery":
                {"emotion": tasks.analyse_emotion, "words": tasks.analyse_words}[job].delay(recording_id)
            else:
                _submit(job, _run_job_in_thread, job, recording_id)
        except Exception:
            logger.exception("Recording %s: the %s job could not be handed over; the sweep will retry", recording_id, job)
            continue
        pipeline.handed_over(recording_id, job)


def analysis_dispatch_forgotten(*, older_than_s: float = 30) -> int:
    """Hand over again every job whose steps were committed but never handed over (see
    pipeline.forgotten_jobs). Returns how many jobs were handed over."""
    jobs = pipeline.forgotten_jobs(older_than_s)
    for recording_id, names in jobs.items():
        analysis_dispatch(recording_id=recording_id, jobs=names)
    return sum(len(names) for names in jobs.values())


def emotion_dispatch(*, recording_id: int) -> None:
    """Run the emotion job of one recording again (its step was reset by a service)."""
    if settings.ANALYSIS_BACKEND == "celery":
        tasks.analyse_emotion.delay(recording_id)
    else:
        _submit("emotion", _run_job_in_thread, "emotion", recording_id)


def open_cases_rescore_dispatch() -> None:
    """Re-score every open case in the background (after a triage settings change)."""
    if settings.ANALYSIS_BACKEND == "celery":
        tasks.rescore_open_cases.delay()
    else:
        _submit("rescore", _run_in_thread, services.open_cases_rescore)


def analysis_resume_unfinished() -> int:
    """Re-dispatch recordings whose steps never finished (e.g. the process stopped)."""
    recording_ids = set(
        AnalysisStep.objects.filter(state__in=[StepState.PENDING, StepState.RUNNING]).values_list(
            "recording_id", flat=True
        )
    )
    for recording_id in recording_ids:
        analysis_dispatch(recording_id=recording_id)
    return len(recording_ids)


def run_in_background(queue: str, fn: Callable[[], Any]) -> None:
    """Run other apps' work in this process's background threads (one thread per queue name)."""
    _submit(queue, _run_in_thread, fn)


def wait_for_inprocess(timeout: float = 60.0) -> None:
    """Block until queued in-process jobs are done (tests and management commands)."""
    deadline = time.monotonic() + timeout
    for executor in list(_executors.values()):
        future = executor.submit(lambda: None)
        future.result(timeout=max(0.0, deadline - time.monotonic()))


# -- in-process runner --------------------------------------------------------------------------


def _submit(queue: str, fn: Callable[..., Any], *args: Any) -> None:
    if queue not in _executors:
        _executors[queue] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"analysis-{queue}")
    _executors[queue].submit(fn, *args)


def _run_in_thread(fn: Callable[[], Any]) -> None:
    close_old_connections()
    try:
        fn()
    except Exception:
        logger.exception("Background job %s crashed", getattr(fn, "__name__", fn))
    finally:
        close_old_connections()


def _run_job_in_thread(job: str, recording_id: int) -> None:
    global _warmed_up
    close_old_connections()
    try:
        if job == "emotion" and not _warmed_up:
            pipeline.warm_up()  # load the model once, outside the step's own timing
            _warmed_up = True
        for attempt in range(3):
            try:
                pipeline.run_job(job, recording_id)
                return
            except pipeline.TRANSIENT_ERRORS as exc:
                logger.warning("Transient error in %s of recording %s: %s", job, recording_id, exc)
                close_old_connections()
                time.sleep(2**attempt)
        pipeline.mark_job_failed(job, recording_id, "gave up after repeated database errors")
    except Exception:
        logger.exception("Analysis job %s of recording %s crashed", job, recording_id)
        pipeline.mark_job_failed(job, recording_id, "the analysis crashed; see the server log")
    finally:
        close_old_connections()
