"""Tell connected browsers that a case changed. Called only after the change committed."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

QUEUE_GROUP = "queue"
PAYLOAD_VERSION = 1


def case_group(case_id: int) -> str:
    return f"case-{case_id}"


def case_changed(case_id: int, kind: str, **extra) -> None:
    """Small, versioned payload; clients fetch the case row they need from the API."""
    message = {"type": "case.changed", "v": PAYLOAD_VERSION, "case": case_id, "kind": kind, **extra}
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        send = async_to_sync(layer.group_send)
        send(QUEUE_GROUP, message)
        send(case_group(case_id), message)
    except Exception:  # a broken broadcast must never undo or hide a case change
        logger.exception("Could not broadcast change %s of case %s", kind, case_id)
