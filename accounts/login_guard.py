"""Slow down password guessing without locking the people who answer 112 calls out of their shift.

* **Per address**: after ``LOGIN_ADDRESS_FREE_FAILURES`` wrong passwords from one client address
  within ``LOGIN_ADDRESS_WINDOW_S``, each further attempt from it waits a doubling delay (at most
  ``LOGIN_ADDRESS_MAX_DELAY_S``); an attempt sooner is answered 429 with Retry-After. Guessing
  many usernames from one address becomes slow; nobody is locked out for long.
* **Per (user, address)**: django-axes locks the pair after ``LOGIN_FAILURE_LIMIT`` failures; a
  failure during the lockout no longer restarts its clock (settings).
* **Known devices**: a browser an operator has signed in from carries a signed cookie naming them;
  such a browser is let through both guards for that user (django-axes' whitelist), so a prank
  caller's friend on the same office network cannot lock the call-taker out. A wrong password
  from it ends that trust (the cookie is dropped).
* The client address is the real one behind the reverse proxy (``TRUSTED_PROXIES``), not the proxy's.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render

DEVICE_COOKIE = "known_device"
_SALT = "accounts.known-device"


def client_ip(request: HttpRequest) -> str:
    """The client's address: behind a trusted proxy (TRUSTED_PROXIES), the last X-Forwarded-For hop
    that is not one of the proxies (a client can prepend anything, but not what the proxy appends);
    otherwise the connection's own address. AXES_CLIENT_IP_CALLABLE."""
    remote = request.META.get("REMOTE_ADDR", "") or "?"
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return remote



def _device_user(request: HttpRequest) -> str | None:
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=_SALT, max_age=settings.KNOWN_DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return None
    return str(data.get("u", "")) or None


def known_device(request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
    """AXES_WHITELIST_CALLABLE: this browser has signed in as the user now trying (case-blind)."""
    username = str((credentials or {}).get("username") or request.POST.get("username") or "").strip().lower()
    return bool(username) and _device_user(request) == username


def _key(address: str) -> str:
    return f"login-guard:{address}"


def _delay_after(failures: int) -> float:
    over = failures - settings.LOGIN_ADDRESS_FREE_FAILURES
    return 0.0 if over < 0 else min(float(settings.LOGIN_ADDRESS_MAX_DELAY_S), 2.0 ** over)


def wait_left(address: str, now: float | None = None) -> float:
    """Seconds this address must still wait before its next login attempt is looked at."""
    state = cache.get(_key(address))
    if not state:
        return 0.0
    return max(0.0, state["last"] + _delay_after(state["failures"]) - (now or time.time()))


def failure_record(address: str, now: float | None = None) -> None:
    now = now or time.time()
    state = cache.get(_key(address)) or {"failures": 0, "last": now}
    state = {"failures": state["failures"] + 1, "last": now}
    cache.set(_key(address), state, timeout=settings.LOGIN_ADDRESS_WINDOW_S)


def guarded(login_view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The login view behind the per-address throttle, setting the known-device cookie on success."""

    @functools.wraps(login_view)  # keeps the view's marks (login not required)
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method != "POST":
            return login_view(request, *args, **kwargs)
        address = client_ip(request)
        from_device = known_device(request)
        wait = 0.0 if from_device else wait_left(address)
        if wait > 0:
            slow_down = render(request, "registration/slow_down.html", {"wait": int(wait) + 1}, status=429)
            slow_down["Retry-After"] = str(int(wait) + 1)
            return slow_down
        response = login_view(request, *args, **kwargs)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            token = signing.dumps({"u": user.get_username().lower()}, salt=_SALT)
            response.set_cookie(DEVICE_COOKIE, token, max_age=settings.KNOWN_DEVICE_DAYS * 86400, httponly=True,
                                secure=settings.SESSION_COOKIE_SECURE, samesite="Lax")
        else:
            failure_record(address)
            if from_device:
                response.delete_cookie(DEVICE_COOKIE)  # a wrong password ends this browser's trust
        return response

    return view
