"""Celery task: a thin wrapper over the import service (which refuses to run an import twice)."""

from celery import shared_task

from . import services


@shared_task(name="learning.import_dataset", acks_late=True, reject_on_worker_lost=True)
def import_dataset(dataset_id: int) -> None:
    services.dataset_import_run(dataset_id=dataset_id)


@shared_task(name="learning.train_model", acks_late=True, reject_on_worker_lost=True)
def train_model(run_id: int) -> None:
    from .training import training_run_execute

    training_run_execute(run_id=run_id)


@shared_task(name="learning.evaluate_models", acks_late=True, reject_on_worker_lost=True)
def evaluate_models(evaluation_id: int) -> None:
    from .evaluation import evaluation_execute

    evaluation_execute(evaluation_id=evaluation_id)
