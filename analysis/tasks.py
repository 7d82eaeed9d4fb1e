"""Celery tasks: thin wrappers over the pipeline and services, with retries and late acknowledgement."""

from typing import Any

from celery import Task, shared_task
from celery.signals import worker_init, worker_process_init

from core.kernels import compile_kernels

from . import pipeline, services


class AnalysisTask(Task):
    autoretry_for = pipeline.TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 60
    max_retries = 5
    acks_late = True  # a worker killed mid-task leaves the message to be redelivered
    reject_on_worker_lost = True

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        job = self.name.rsplit("_", 1)[-1]
        pipeline.mark_job_failed(job, args[0], f"{type(exc).__name__}: {exc}")


@shared_task(base=AnalysisTask, name="analysis.analyse_emotion")
def analyse_emotion(recording_id: int) -> None:
    pipeline.run_job("emotion", recording_id)


@shared_task(base=AnalysisTask, name="analysis.analyse_words")
def analyse_words(recording_id: int) -> None:
    pipeline.run_job("words", recording_id)


@shared_task(name="analysis.rescore_open_cases", autoretry_for=pipeline.TRANSIENT_ERRORS, retry_backoff=2,
             max_retries=5, acks_late=True)
def rescore_open_cases() -> int:
    return services.open_cases_rescore()


@worker_init.connect
def _compile_kernels(**kwargs: Any) -> None:
    """Before the pool forks: compile signal-processing kernels once (no TensorFlow here)."""
    compile_kernels()


@worker_process_init.connect
def _warm_up(**kwargs: Any) -> None:
    """In each pool process, after the fork: load the emotion model."""
    pipeline.warm_up()


@shared_task(name="analysis.dispatch_forgotten", acks_late=True)
def dispatch_forgotten() -> int:
    """Run by Celery beat (settings.CELERY_BEAT_SCHEDULE): jobs whose hand-over was lost."""
    jobs = pipeline.forgotten_jobs()
    for recording_id, names in jobs.items():
        for job in names:
            {"emotion": analyse_emotion, "words": analyse_words}[job].delay(recording_id)
            pipeline.handed_over(recording_id, job)
    return sum(len(names) for names in jobs.values())
