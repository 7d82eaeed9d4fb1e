"""Daphne's HTTP requests, without Twisted's own form parsing.

Twisted's ``http.Request`` parses every ``multipart/form-data`` POST body itself before Daphne hands
the raw body to the ASGI application, and answers a body it cannot parse (one holding only its
closing boundary, say) with a bare ``400`` — no body, no Content-Type — before Django runs: the API's
RFC 9457 problem never got a chance (schemathesis found it, seed 4242). Daphne uses nothing Twisted
parsed, so the parsing is turned off: Django's parsers judge the body and answer in the API's format,
and a 50 MB upload is no longer parsed twice.
"""

from __future__ import annotations

import functools
from typing import Any


def install() -> None:
    """Turn off Twisted's form parsing for Daphne's requests (idempotent)."""
    from daphne.http_protocol import WebRequest  # type: ignore[import-untyped]  # no type information

    if getattr(WebRequest.__init__, "_no_form_parsing", False):
        return
    original = WebRequest.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        # Twisted reads this flag in requestReceived, after __init__: off, the body goes through untouched.
        self._parsePOSTFormSubmission = False

    init._no_form_parsing = True  # type: ignore[attr-defined]
    WebRequest.__init__ = init
