"""The "security" log: logins, failed logins, lockouts (django-axes) and logouts, each with who,
from where and on which path; the log line's time is the when. Refused pages are logged by the
403 handler (emergency_portal.errors). Passwords are never logged."""

from __future__ import annotations

import logging
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .login_guard import client_ip

logger = logging.getLogger("security")


def _where(request: Any) -> str:
    if request is None:
        return "ip=? path=?"
    return f"ip={client_ip(request)} path={request.path}"


@receiver(user_logged_in, dispatch_uid="security-log-login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    logger.info("login: user=%s %s", user.get_username(), _where(request))


@receiver(user_logged_out, dispatch_uid="security-log-logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    logger.info("logout: user=%s %s", user.get_username() if user else "anonymous", _where(request))


@receiver(user_login_failed, dispatch_uid="security-log-login-failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django already masks the password in `credentials`; only the username is written.
    logger.warning("login failed: user=%s %s", credentials.get("username", "?"), _where(request))


@receiver(user_locked_out, dispatch_uid="security-log-locked-out")
def _locked_out(sender: Any, request: Any, username: str | None, ip_address: str | None, **kwargs: Any) -> None:
    logger.warning("login locked out: user=%s ip=%s path=%s", username or "?", ip_address or "?",
                   getattr(request, "path", "?"))
