"""A real browser against a real server: Daphne (HTTP + websockets) in a forked process, on the
test database, with the Redis channel layer; Debian's Chromium driven by Playwright.

The server is forked from a helper thread: Playwright's sync API keeps an asyncio loop marked as
running in the main thread, and a child forked from there could not run Twisted's own loop.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the test's ORM calls are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402,F401  (the shared browser)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class LiveServer:
    """Daphne in a child process; stop() and start() again on the same port cut the websockets."""

    def __init__(self):
        self.port = 0
        self.process = None
        self.media_root: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from channels.testing.live import make_application
        from daphne.testing import DaphneProcess
        from django.conf import settings
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        self.media_root = Path(settings.MEDIA_ROOT)
        process = DaphneProcess(
            "127.0.0.1",
            partial(make_application, static_wrapper=ASGIStaticFilesHandler),
            port=self.port,
        )
        starter = threading.Thread(target=process.start)
        starter.start()
        starter.join()
        deadline = time.monotonic() + 30
        while not process.ready.wait(timeout=0.5):
            if not process.is_alive() or time.monotonic() > deadline:
                process.terminate()
                raise RuntimeError("The live server did not start.")
        self.port = process.port.value
        self.process = process

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(10)
            self.process = None


@pytest.fixture(scope="session")
def channel_layer_of_our_own():
    """Other test runs may share this Redis server: use group names nobody else uses."""
    from django.conf import settings
    from django.test import override_settings

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("Browser tests need REDIS_URL: the server runs in another process.")
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # the settings' hosts (their socket timeout included), under a prefix of this run's own
            "CONFIG": dict(settings.CHANNEL_LAYERS["default"]["CONFIG"],
                           prefix=f"browser-{os.getpid()}-{uuid.uuid4().hex[:6]}"),
        }
    }
    override = override_settings(CHANNEL_LAYERS=layers)
    override.enable()
    yield settings.CHANNEL_LAYERS
    override.disable()


@pytest.fixture(scope="session")
def server(django_db_setup, django_db_blocker, channel_layer_of_our_own, browser):
    """Set up after the browser, so torn down before it: a server (re)started while Playwright runs
    inherits the driver's pipe, and Playwright's exit waits for the driver until that server stops."""
    live = LiveServer()
    with django_db_blocker.unblock():
        live.start()
    yield live
    live.stop()


@pytest.fixture
def media_root(settings, server):
    """Recordings go where the server process reads them (it was forked with this MEDIA_ROOT)."""
    settings.MEDIA_ROOT = server.media_root
    return settings.MEDIA_ROOT


@pytest.fixture
def live(server, transactional_db):
    """The server, for a test whose rows are committed (the server sees them) and flushed after."""
    if server.process is None:
        server.start()
    yield server


@pytest.fixture
def login(browser, live):
    """login(user) -> a new page in a browser context of its own, signed in as that user."""
    from django.conf import settings
    from django.test import Client

    contexts = []

    def make(user):
        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
        context.grant_permissions(["microphone", "notifications"], origin=live.url)
        context.add_cookies([{
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live.url,
        }])
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def off_loop():
    """Run ORM/service code in a plain thread: async_to_sync (the broadcasts) refuses to run in a
    thread with an event loop, and Playwright keeps one in this thread."""
    from django.db import connections

    executor = ThreadPoolExecutor(max_workers=1)

    def run(fn, *args, **kwargs):
        return executor.submit(fn, *args, **kwargs).result(timeout=60)

    yield run
    executor.submit(connections.close_all).result()
    executor.shutdown()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
