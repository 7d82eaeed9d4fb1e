"""What the admins' background jobs (training runs, evaluations) share: recording a change of state
or progress and telling the pages that follow it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

from calls import broadcast

from .models import BackgroundJob


def job_update(job: BackgroundJob, **fields: Any) -> None:
    """Save the given fields of the job and announce it (after the commit)."""
    for key, value in fields.items():
        setattr(job, key, value)
    job.save(update_fields=list(fields))
    job_announce(job)


def job_announce(job: BackgroundJob) -> None:
    state, progress, message = job.state, job.progress, job.message  # as they are now, not at commit time
    transaction.on_commit(lambda: broadcast.training_changed(job.pk, state, kind=job.KIND, progress=progress,
                                                             message=message))


def job_dispatch(task_name: str, job_id: int, run: Callable[[], Any]) -> None:
    """Start a job in the background: its Celery task (``learning.tasks.<task_name>``, on a worker of the
    words queue), or, in the embedded run, ``run`` in a thread."""
    from analysis.dispatch import run_in_background

    from . import tasks

    if settings.ANALYSIS_BACKEND == "celery":
        getattr(tasks, task_name).delay(job_id)
    else:
        run_in_background("learning", run)
