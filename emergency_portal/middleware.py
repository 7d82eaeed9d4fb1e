"""Refuse a request body that is too large from its Content-Length, before anyone reads it.

Without this, a 200 MB upload was refused only after the whole body had arrived and been spooled
to disk (the intake checks the file's size once the form is parsed). The limit is the intake's own
(MAX_UPLOAD_MB; DATASET_MAX_UPLOAD_MB for dataset archives) plus room for the form's other fields,
so a file just over the intake limit still reaches the intake, which keeps the case and says why.

Two layers use the same rule:
- ``RequestSizeLimitMiddleware`` (Django): first in MIDDLEWARE, so no view or form parses the body;
  under WSGI the body has not been read yet at that point.
- ``BodySizeLimitASGI`` (around the HTTP app in asgi.py): Django's ASGI handler reads the whole
  body before any middleware runs, so under ASGI the refusal must come before Django. It also
  counts the bytes of a body sent without Content-Length (chunked) and stops at the limit.
  (daphne buffers a request body itself before calling the application; uvicorn streams it.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from calls.problems import PROBLEM_JSON

from .errors import is_api, page_or_problem

logger = logging.getLogger("security")

MB = 1024 * 1024
FORM_OVERHEAD_BYTES = 1 * MB  # the multipart framing and the form's other fields
TITLE = "Request body too large"


@lru_cache(maxsize=1)
def _dataset_upload_prefix() -> str:
    return reverse("learning:dataset_list")


def body_limit_bytes(path: str) -> int:
    """The largest request body accepted for `path`."""
    limit_mb = settings.DATASET_MAX_UPLOAD_MB if path.startswith(_dataset_upload_prefix()) else settings.MAX_UPLOAD_MB
    return int(limit_mb) * MB + FORM_OVERHEAD_BYTES


def _detail(length: int | None, limit: int) -> str:
    sent = f"{length / MB:.1f} MB" if length is not None else "More than that"
    return (f"{sent} was sent; this address accepts at most {limit / MB:.0f} MB "
            f"(audio files up to {settings.MAX_UPLOAD_MB} MB).")


def _declared_length(value: str | bytes | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def too_large_response(request: HttpRequest, length: int | None, limit: int) -> HttpResponse:
    response = page_or_problem(request, 413, TITLE, _detail(length, limit), "413.html")
    response["Connection"] = "close"  # the unread body must not be taken for the next request
    return response


class RequestSizeLimitMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        length = _declared_length(request.META.get("CONTENT_LENGTH"))
        limit = body_limit_bytes(request.path)
        if length is None or length <= limit:
            return None
        logger.warning("request body refused: %d bytes to %s %s (limit %d) from %s",
                       length, request.method, request.path, limit, request.META.get("REMOTE_ADDR", "?"))
        return too_large_response(request, length, limit)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self._refusal(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        return await self.get_response(request)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Django's handler types its arguments a little differently


class BodySizeLimitASGI:
    """ASGI wrapper for the HTTP app: 413 before Django reads a body over the limit."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = body_limit_bytes(path)
        headers = dict(scope.get("headers") or [])
        length = _declared_length(headers.get(b"content-length"))
        if length is not None and length > limit:
            logger.warning("request body refused: %d bytes to %s %s (limit %d) from %s",
                           length, scope.get("method"), path, limit, (scope.get("client") or ["?"])[0])
            await self._refuse(scope, send, length, limit)
            return
        received = 0
        overflow = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, watched_send)
        if overflow and not started:
            logger.warning("request body refused: over %d bytes (no Content-Length) to %s", limit, path)
            await self._refuse(scope, send, None, limit)

    async def _refuse(self, scope: Scope, send: Send, length: int | None, limit: int) -> None:
        if is_api(scope.get("path", "")):
            body = json.dumps({"type": "about:blank", "title": TITLE, "status": 413,
                               "detail": _detail(length, limit)}).encode()
            content_type = PROBLEM_JSON
        else:
            body = await sync_to_async(_page_html)(length, limit)
            content_type = "text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


def _page_html(length: int | None, limit: int) -> bytes:
    from django.template import loader

    context = {"title": TITLE, "detail": _detail(length, limit), "status": 413}
    return loader.get_template("413.html").render(context).encode()


# -- idle sessions: what the person does, not what the page polls ---------------------------------

#: Sent by the pages' own background refreshes (static/js/live.js ``refreshFetch``): the queue's
#: window, the case's panels, the operations figures. Such a request is not activity.
BACKGROUND_REFRESH_HEADER = "HTTP_X_BACKGROUND_REFRESH"


def is_background_refresh(request: HttpRequest) -> bool:
    return request.META.get(BACKGROUND_REFRESH_HEADER) == "1"


class IdleSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, except that a background refresh does not renew the session.

    With SESSION_SAVE_EVERY_REQUEST each saved request moves the session's expiry SESSION_COOKIE_AGE
    (SESSION_IDLE_MINUTES) ahead; a queue page polling its window every few seconds would keep an
    unattended desk logged in for ever. So a background refresh leaves the session as it is: neither
    saved (the expiry stays where the person's last action put it) nor its cookie re-sent. One that
    changed the session (rare: nothing the refreshes read writes to it) is saved, so nothing is lost.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or not is_background_refresh(request) or session.modified:
            return super().process_response(request, response)
        if session.accessed:
            patch_vary_headers(response, ("Cookie",))
        return response


class SessionEndedMiddleware:
    """A background refresh without a live session gets 401, not the login page.

    After AuthenticationMiddleware, before LoginRequiredMiddleware: otherwise the refresh would follow
    the redirect and put the login page's HTML where the queue's rows were. The page's script answers
    a 401 by reloading, which a real request turns into the login page (``?next=`` back to it).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if is_background_refresh(request) and (user is None or not user.is_authenticated):
            response = page_or_problem(request, 401, "Session ended",
                                       "Your session has ended (idle too long, or logged out): log in again.",
                                       "error.html")
            response["WWW-Authenticate"] = 'Session realm="portal"'
            return response
        return self.get_response(request)
