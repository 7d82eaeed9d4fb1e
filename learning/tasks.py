"""Celery tasks: thin wrappers over the services (the import refuses to run twice; a run or an
evaluation picks up only what is waiting). Registered under the names learning.jobs dispatches by."""

from celery import shared_task

from . import jobs, services
from .evaluation import evaluation_execute
from .training import training_run_execute
from .words_training import words_training_run_execute


@shared_task(name=jobs.IMPORT_DATASET, acks_late=True, reject_on_worker_lost=True)
def import_dataset(dataset_id: int) -> None:
    services.dataset_import_run(dataset_id=dataset_id)


@shared_task(name=jobs.TRAIN_MODEL, acks_late=True, reject_on_worker_lost=True)
def train_model(run_id: int) -> None:
    training_run_execute(run_id=run_id)


@shared_task(name=jobs.EVALUATE_MODELS, acks_late=True, reject_on_worker_lost=True)
def evaluate_models(evaluation_id: int) -> None:
    evaluation_execute(evaluation_id=evaluation_id)


@shared_task(name=jobs.TRAIN_WORDS_MODEL, acks_late=True, reject_on_worker_lost=True)
def train_words_model(run_id: int) -> None:
    words_training_run_execute(run_id=run_id)
