"""What the admins' background jobs (training runs, evaluations) share: recording a change of state
or progress and telling the pages that follow it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

from analysis.dispatch import run_in_background
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


# The Celery tasks of the jobs, by their registered names (learning.tasks registers them under these):
# dispatching by name keeps this module below the tasks, which import the work that imports this.
IMPORT_DATASET = "learning.import_dataset"
TRAIN_MODEL = "learning.train_model"
EVALUATE_MODELS = "learning.evaluate_models"
TRAIN_WORDS_MODEL = "learning.train_words_model"


def job_dispatch(*, task: str, job_id: int, run: Callable[[], Any]) -> None:
    """Start a job in the background: the Celery task named ``task`` (routed by name by
    CELERY_TASK_ROUTES, to a worker of the words queue), or, in the embedded run, ``run`` in a thread."""
    if settings.ANALYSIS_BACKEND == "celery":
        current_app.send_task(task, args=[job_id])
    else:
        run_in_background("learning", run)
