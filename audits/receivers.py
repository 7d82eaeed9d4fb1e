"""How the audit app follows what happens to cases (connected in AuditsConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from calls.models import Case

from .services import audit_item_create

logger = logging.getLogger(__name__)


def on_case_closed(sender: type[Case], *, case: Case, **kwargs: Any) -> None:
    """Decide after the close commits: sampling must never stop a case from closing."""
    transaction.on_commit(lambda: _sample(case.pk))


def _sample(case_id: int) -> None:
    try:
        audit_item_create(case=Case.objects.get(pk=case_id))
    except Exception:
        logger.exception("Could not decide whether case %s goes to the audit queue", case_id)
