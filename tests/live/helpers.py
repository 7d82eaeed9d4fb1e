"""Driving ``/ws/live/stream/`` and ``/ws/live/desk/`` through the real ASGI application, in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from emergency_portal.asgi import application

PATH = "/ws/live/stream/"
DESK_PATH = "/ws/live/desk/"
HOST = (b"host", b"127.0.0.1")
ORIGIN = (b"origin", b"http://127.0.0.1")


def key_headers(secret: str, *extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """A phone system: no Origin header, the intake key."""
    return [HOST, (b"authorization", f"Api-Key {secret}".encode()), *extra]


async def connect(headers: list[tuple[bytes, bytes]], *, path: str = PATH) -> tuple[WebsocketCommunicator, bool, Any]:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=10)
    return communicator, connected, code


async def send(communicator: WebsocketCommunicator, messages: Iterable[str | bytes]) -> None:
    for item in messages:
        if isinstance(item, bytes):
            await communicator.send_to(bytes_data=item)
        else:
            await communicator.send_to(text_data=item)


async def closed(communicator: WebsocketCommunicator, *, timeout: float = 30) -> dict[str, Any]:
    """The close the server sent (skipping any text it sent first); the connection then ends."""
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            await communicator.disconnect(code=output.get("code", 1000))
            return output


async def until(check: Callable[[], Any], *, timeout: float = 10) -> Any:
    """Wait for a condition read from the database (the consumer works on its own time)."""
    read = sync_to_async(check)
    for _ in range(int(timeout / 0.05)):
        value = await read()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"not true within {timeout} s: {check}")


def off_loop(fn, *args, timeout: float = 300):
    """Run `fn` in a plain thread: the run's shared headless browser (Playwright's sync API) keeps an
    event loop marked running in the main thread, where asyncio.run and async_to_sync refuse to
    start. For transactional tests only (the thread has its own database connection)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run():
        try:
            return fn(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=timeout)


def session_cookie(user) -> tuple[bytes, bytes]:
    """The cookie header of a fresh login session of ``user`` (a browser's credential)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())


def desk_headers(user) -> list[tuple[bytes, bytes]]:
    """An operator's browser on the portal's own page: same Origin, the session cookie."""
    return [ORIGIN, HOST, session_cookie(user)]
