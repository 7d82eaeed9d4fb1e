"""Logins locked after repeated wrong passwords, and their release by a supervisor.

django-axes locks a (username, client address) pair after ``AXES_FAILURE_LIMIT`` failures for
``AXES_COOLOFF_TIME``. A call-taker locked out at the start of a shift cannot wait fifteen minutes:
a supervisor or an admin who knows them releases the lock on the lockouts page. Releasing ends the
lock's running count (axes' ``AccessAttempt``, the state it decides from); every failed attempt stays
in ``AccessFailureLog``, which nobody edits, and the release itself is a line of the security log
with who released whom.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Role

security_log = logging.getLogger("security")


class LockoutReleaseRefused(PermissionError):
    pass


@dataclass(frozen=True)
class Lockout:
    attempt_id: int
    username: str
    ip_address: str
    failures: int
    last_failure: datetime
    unlocks_at: datetime


def _is_locked(attempt: AccessAttempt, now: datetime) -> bool:
    return (attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT
            and attempt.attempt_time + settings.AXES_COOLOFF_TIME > now)


def lockouts_current(*, now: datetime | None = None) -> list[Lockout]:
    """The (user, address) pairs locked out now, the latest first."""
    now = now or timezone.now()
    attempts = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
                                            attempt_time__gt=now - settings.AXES_COOLOFF_TIME)
    return [Lockout(attempt_id=attempt.pk, username=attempt.username or "", ip_address=attempt.ip_address or "",
                    failures=attempt.failures_since_start, last_failure=attempt.attempt_time,
                    unlocks_at=attempt.attempt_time + settings.AXES_COOLOFF_TIME)
            for attempt in attempts.order_by("-attempt_time")]


def login_lockout_release(*, attempt_id: int, by: Any) -> Lockout:
    """Release one locked (user, address) pair now. Only supervisors and admins release locks, and
    nobody releases their own (a guesser at the same desk would be the one asking)."""
    if not by.has_role(Role.SUPERVISOR):
        raise LockoutReleaseRefused("Only supervisors and admins release a locked login.")
    now = timezone.now()
    with transaction.atomic():
        attempt = AccessAttempt.objects.select_for_update().filter(pk=attempt_id).first()
        if attempt is None or not _is_locked(attempt, now):
            raise LockoutReleaseRefused("That login is not locked any more.")
        if attempt.username == by.get_username():
            raise LockoutReleaseRefused("Nobody releases their own locked login: ask another supervisor.")
        released = Lockout(attempt_id=attempt.pk, username=attempt.username or "", ip_address=attempt.ip_address or "",
                           failures=attempt.failures_since_start, last_failure=attempt.attempt_time,
                           unlocks_at=attempt.attempt_time + settings.AXES_COOLOFF_TIME)
        attempt.delete()  # exactly the row chosen (axes' reset() with an empty name would match every row)
    security_log.warning("lockout released: user=%s ip=%s failures=%d by=%s", released.username,
                         released.ip_address, released.failures, by.get_username())
    return released
