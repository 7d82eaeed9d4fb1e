"""The clients of the evening run, in asyncio: the phone system pushing calls in, and operators with
open queue pages (a websocket each, the queue's window refetched as static/js/queue.js does: once per
burst of notices that change rows, at most every 2 s unless a call turns critical),
claiming and closing calls through the API. Every request is timed per endpoint; every failure is
counted, never hidden."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import websockets

RETRY_FOR_S = 180  # the phone system keeps retrying a call this long (same Idempotency-Key)
BURST_S, MIN_GAP_S = 0.08, 2.0  # static/js/queue.js's BURST_MS and MIN_GAP_MS


@dataclass
class Record:
    """What the clients saw: latencies per endpoint, errors, and each call's fate."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    # When each operator's page heard of each new case (a notice may beat the 201 to the phone system).
    notices: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    reconnects: list[dict[str, float]] = field(default_factory=list)
    calls_by_case: dict[int, dict[str, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def timed(self, endpoint: str, seconds: float, status: int | str) -> None:
        if isinstance(status, int) and status < 500:
            self.latencies[endpoint].append(seconds)
        if not isinstance(status, int) or status >= 400:
            self.errors[endpoint][str(status)] += 1


async def request(session: aiohttp.ClientSession, record: Record, endpoint: str, method: str, url: str,
                  **kwargs: Any) -> tuple[int | str, Any, dict[str, str]]:
    started = time.monotonic()
    try:
        async with session.request(method, url, **kwargs) as response:
            body = await response.read()
            status: int | str = response.status
            headers = dict(response.headers)
    except (TimeoutError, aiohttp.ClientError) as exc:
        status, body, headers = type(exc).__name__, b"", {}
    record.timed(endpoint, time.monotonic() - started, status)
    return status, body, headers


async def send_call(session: aiohttp.ClientSession, record: Record, base: str, key: str, run: str, index: int,
                    audio: bytes) -> None:
    """One call, retried with the same Idempotency-Key until it is acknowledged (or RETRY_FOR_S)."""
    call = record.calls[index] = {"sent": time.monotonic(), "attempts": 0}
    url = f"{base}/api/v1/cases/?caller_number=%2B9198{index:08d}&location=evening-{run}-{index}"
    headers = {"Authorization": f"Api-Key {key}", "Idempotency-Key": f"{run}-{index}", "Content-Type": "audio/wav"}
    delay = 0.5
    while time.monotonic() - call["sent"] < RETRY_FOR_S:
        call["attempts"] += 1
        status, body, response_headers = await request(session, record, "POST /api/v1/cases/", "POST", url,
                                                       data=audio, headers=headers)
        if status == 201:
            case = json.loads(body)
            call.update(acked=time.monotonic(), case=case["id"], audio_error=case.get("audio_error"),
                        replayed=response_headers.get("Idempotent-Replayed") == "true")
            record.calls_by_case[case["id"]] = call
            return
        if isinstance(status, int) and 400 <= status < 500 and status != 429:
            call["refused"] = f"{status}: {body[:200]!r}"
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5)
    call["gave_up"] = True


class Operator:
    """A queue page (websocket + rows refetch, the page itself now and then) and a pair of hands
    (claim the top open call, close it a few seconds later)."""

    def __init__(self, number: int, base: str, cookie: str, token: str, record: Record, stop: asyncio.Event):
        self.number, self.base, self.record, self.stop = number, base, record, stop
        self.cookie, self.token = cookie, token
        self.connected = False
        self.notices_seen: set[int] = set()
        self._rows_busy, self._rows_again = False, False
        self._pending: asyncio.Task | None = None
        self._last_fetch = 0.0

    async def run(self, session: aiohttp.ClientSession) -> None:
        await asyncio.gather(self._live(session), self._hands(session), self._page(session))

    async def _live(self, session: aiohttp.ClientSession) -> None:
        url = self.base.replace("http", "ws") + "/ws/queue/"
        lost_at: float | None = None
        delay = 0.5
        while not self.stop.is_set():
            try:
                async with websockets.connect(url, additional_headers={"Cookie": self.cookie}, origin=self.base,
                                              open_timeout=20, ping_interval=None, max_queue=None) as ws:
                    self.connected = True
                    if lost_at is not None:
                        self.record.reconnects.append({"operator": self.number, "at": lost_at - self.record.started,
                                                       "after_s": time.monotonic() - lost_at})
                        lost_at, delay = None, 0.5
                    await self._refresh_rows(session)  # resync: whatever changed while away
                    while not self.stop.is_set():
                        try:
                            message = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                        except TimeoutError:
                            continue
                        self._notice(message)
                        self._on_change(message, session)
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
            if self.stop.is_set():
                break
            self.connected = False
            lost_at = lost_at or time.monotonic()
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # jitter: 30 pages must not reconnect at once
            delay = min(delay * 2, 8)

    def _notice(self, message: dict[str, Any]) -> None:
        if message.get("type") != "case" or message.get("kind") != "created":
            return
        case = message.get("case")
        if isinstance(case, int) and case not in self.notices_seen:
            self.notices_seen.add(case)
            self.record.notices[case].append(time.monotonic())

    def _on_change(self, message: dict[str, Any], session: aiohttp.ClientSession) -> None:
        """queue.js's onChange: skip notices that change no row; one fetch per burst (80 ms), at most
        one every MIN_GAP_S; a call scored critical skips the gap."""
        progress_only = "progress" in message and "state" not in message
        if progress_only or message.get("kind") == "note_added":
            return
        critical = message.get("band") == "critical"
        if critical and self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._pending is not None:
            return
        gap = 0.0 if critical else MIN_GAP_S
        wait = max(BURST_S, self._last_fetch + gap - time.monotonic())

        async def later() -> None:
            await asyncio.sleep(wait)
            self._pending, self._last_fetch = None, time.monotonic()
            await self._refresh_rows(session)

        self._pending = asyncio.ensure_future(later())

    async def _refresh_rows(self, session: aiohttp.ClientSession) -> None:
        """One fetch in flight, at most one more queued behind it (what queue.js does)."""
        if self._rows_busy:
            self._rows_again = True
            return
        self._rows_busy = True
        try:
            while True:
                self._rows_again = False
                await request(session, self.record, "GET /queue/rows/", "GET", f"{self.base}/queue/rows/",
                              headers={"Cookie": self.cookie, "X-Requested-With": "fetch"})
                if not self._rows_again:
                    break
        finally:
            self._rows_busy = False

    async def _page(self, session: aiohttp.ClientSession) -> None:
        while not self.stop.is_set():
            await self._sleep(random.uniform(10, 20))
            await request(session, self.record, "GET / (queue page)", "GET", f"{self.base}/",
                          headers={"Cookie": self.cookie})

    async def _hands(self, session: aiohttp.ClientSession) -> None:
        auth = {"Authorization": f"Token {self.token}"}
        while not self.stop.is_set():
            await self._sleep(random.uniform(6, 12))
            status, body, _ = await request(session, self.record, "GET /api/v1/cases/", "GET",
                                            f"{self.base}/api/v1/cases/?status=open&page_size=3", headers=auth)
            if status != 200 or not json.loads(body)["results"]:
                continue
            case = random.choice(json.loads(body)["results"])["id"]
            status, _, _ = await request(session, self.record, "POST claim", "POST",
                                         f"{self.base}/api/v1/cases/{case}/claim/", headers=auth)
            if status != 200:
                continue  # 409: another operator was quicker
            await self._sleep(random.uniform(2, 5))
            await request(session, self.record, "POST close", "POST", f"{self.base}/api/v1/cases/{case}/close/",
                          json={"outcome": "resolved", "reason": "Handled during the load run."}, headers=auth)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
        except TimeoutError:
            pass
