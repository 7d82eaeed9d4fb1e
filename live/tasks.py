"""Celery beat runs the sweep (settings.CELERY_BEAT_SCHEDULE); the AudioSocket server runs it too."""

from celery import shared_task

from . import services


@shared_task(name="live.cut_off_interrupted", acks_late=True)
def cut_off_interrupted() -> int:
    return services.streams_sweep()
