"""Celery application: used only when CELERY_BROKER_URL is set (production, CI)."""

import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emergency_portal.settings")

app = Celery("emergency_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def broker_transport_options(queues: list[str] | None) -> dict[str, Any]:
    """The Redis transport options of a worker consuming `queues`: the emotion queue's own short
    visibility timeout (and unacked keys) for a worker of that queue alone, the default otherwise."""
    from django.conf import settings

    if queues and set(queues) == {"emotion"}:
        return dict(settings.EMOTION_BROKER_TRANSPORT_OPTIONS)
    return dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)


@celeryd_init.connect
def _options_for_the_worker_queues(sender: Any = None, conf: Any = None, options: Any = None, **kwargs: Any) -> None:
    # Sent once a worker has parsed its options (-Q), before it connects to the broker.
    conf.broker_transport_options = broker_transport_options((options or {}).get("queues"))
