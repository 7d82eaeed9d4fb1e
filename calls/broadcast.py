"""Tell connected browsers that a case changed. Called only after the change committed."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

QUEUE_GROUP = "queue"
TRAINING_GROUP = "training"
PAYLOAD_VERSION = 1


def case_group(case_id: int) -> str:
    return f"case-{case_id}"


def case_changed(case_id: int, kind: str, **extra) -> None:
    """Small, versioned payload; clients fetch the case row they need from the API."""
    message = {"type": "case.changed", "v": PAYLOAD_VERSION, "case": case_id, "kind": str(kind), **extra}
    _send([QUEUE_GROUP, case_group(case_id)], message, f"change {kind} of case {case_id}")


def send_to_group(group: str, message_type: str, **extra: Any) -> None:
    """A small, versioned notice to one group (apps above calls have groups of their own)."""
    message = {"type": message_type, "v": PAYLOAD_VERSION, **extra}
    _send([group], message, f"{message_type} to {group}")


def training_changed(job_id: int, state: str, **extra) -> None:
    """Progress of a training job (state, epoch, metrics...) for admins' pages; keep extra small."""
    message = {"type": "training.changed", "v": PAYLOAD_VERSION, "job": job_id, "state": str(state), **extra}
    _send([TRAINING_GROUP], message, f"state {state} of training job {job_id}")


def _send(groups: list[str], message: dict, what: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        send = async_to_sync(layer.group_send)
        for group in groups:
            send(group, message)
    except Exception:  # a broken broadcast must never undo or hide the change itself
        logger.exception("Could not broadcast %s", what)
