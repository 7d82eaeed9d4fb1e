"""Websocket edges: the same origin only, no route no traceback, and a session's sockets closed when
the session ends.

* ``SameOriginValidator``: channels' AllowedHostsOriginValidator accepts any port and scheme of an
  allowed host (``http://portal:8081`` for ``https://portal``); a page of another origin on the same
  host must not read the queue. The Origin must name exactly the Host the socket was opened to,
  and under HTTPS (``SECURE_SSL``) be https.
* ``NoSuchRoute``: a path no consumer serves is closed (4404) instead of raising in the router.
* Logging out closes that session's sockets; deactivating a user closes all of theirs
  (``session_ended`` notices, sent here and handled by calls.consumers).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import broadcast

CLOSE_SESSION_ENDED = 4401


def session_group(session_key: str) -> str:
    return f"session.{session_key}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class SameOriginValidator:
    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def same_origin(scope: dict) -> bool:
    headers = dict(scope.get("headers") or [])
    origin, host = headers.get(b"origin"), headers.get(b"host")
    if not origin or not host:
        return False
    parsed = urlparse(origin.decode("latin1"))
    if parsed.scheme not in ("http", "https") or (settings.SECURE_SSL and parsed.scheme != "https"):
        return False
    return parsed.netloc.lower() == host.decode("latin1").lower()


class MachineClients:
    """Phone systems stream calls to ``paths`` (live ingress) without an Origin header: only browsers
    send one, and only a browser can be made to carry a visitor's cookies to another site, so such a
    socket skips the same-origin checks and goes to ``machine_app``, which authenticates by API key
    alone (no session). Every socket with an Origin, browsers' cross-origin ones included, and every
    other path, goes through ``application`` and its checks as before."""

    def __init__(self, application: Any, *, machine_app: Any, paths: set[str]) -> None:
        self.application, self.machine_app, self.paths = application, machine_app, paths

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and scope.get("path") in self.paths and \
                b"origin" not in dict(scope.get("headers") or []):
            return await self.machine_app(scope, receive, send)
        return await self.application(scope, receive, send)


class NoSuchRoute(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.close(code=4404)


@receiver(user_logged_out, dispatch_uid="calls.ws.logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        broadcast.send_to_group(session_group(key), "session.ended")


@receiver(post_save, sender=get_user_model(), dispatch_uid="calls.ws.deactivated")
def _deactivated(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not instance.is_active:
        broadcast.send_to_group(user_group(instance.pk), "session.ended")


async def session_alive(scope: dict[str, Any]) -> bool:
    """Whether the session a socket was opened with still holds a login, read afresh: it may have
    expired (SESSION_IDLE_MINUTES without a request of the person's own) since the socket opened."""
    session_key = getattr(scope.get("session"), "session_key", None)
    if not session_key:
        return False
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    data = await database_sync_to_async(store.load)()  # {} once expired or deleted
    return SESSION_KEY in data
