"""The portal served as production serves it: Daphne (Twisted's HTTP) running the project's ASGI
application, in a forked process on the test database. Django's live_server is a WSGI server and never
meets what Daphne does to a request before Django sees it (tests/test_api_rough_edges.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial


@contextmanager
def daphne_server() -> Iterator[str]:
    """The server's base URL; the test's rows must be committed (transactional_db) for it to see them."""
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess

    process = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=None))
    process.start()
    deadline = time.monotonic() + 30
    while not process.ready.wait(timeout=0.5):
        if not process.is_alive() or time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError("Daphne did not start.")
    try:
        yield f"http://127.0.0.1:{process.port.value}"
    finally:
        process.terminate()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(10)
