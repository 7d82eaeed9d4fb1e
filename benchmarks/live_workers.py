"""The live worker that follows the benchmark's calls: as production runs it, in a process of its own
(``manage.py live_worker``, beside the ingress's process), or in a thread of the benchmark's process.

In production the ingress (Daphne, ``manage.py live_audiosocket``) and the worker are separate
processes: in one process the ingress's frames and the worker's passes also wait for each other's
turn at the interpreter lock, which the machine's figure should not carry. Either way the benchmark
knows the worker is done with a call by its final reading (all_read), and asks the kind what CPU it used.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
WORKER_KINDS = ("process", "thread")


def all_read(case_ids: list[int]) -> bool:
    """The worker has made its final reading (after the hang-up) of every call."""
    from analysis.models import LiveReading

    finished = set(LiveReading.objects.filter(case_id__in=case_ids, final=True).values_list("case_id", flat=True))
    return finished >= set(case_ids)


class ThreadWorker:
    """A LiveWorker on an event loop of its own, in this process."""

    def __init__(self) -> None:
        from live.worker import LiveWorker

        self.worker = LiveWorker()
        self.worker.warm_up()  # as manage.py live_worker does before its first call
        self._ready = threading.Event()
        self._holder: dict = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        from django.db import connections

        async def main() -> None:
            stop = asyncio.Event()
            self._holder["stop"], self._holder["loop"] = stop, asyncio.get_running_loop()
            self._ready.set()
            await self.worker.run(stop=stop, poll_seconds=0.2)

        asyncio.run(main())
        connections.close_all()

    def cpu_seconds(self) -> float:
        return 0.0  # counted with the benchmark's own process

    def rss_mb(self) -> float:
        return 0.0

    def stop(self) -> None:
        self._holder["loop"].call_soon_threadsafe(self._holder["stop"].set)
        self._thread.join(30)


class ProcessWorker:
    """``manage.py live_worker`` with this process's settings and database, started and ready to take
    calls (its models loaded)."""

    def __init__(self, *, timeout: float = 120) -> None:
        self.process = subprocess.Popen([sys.executable, "manage.py", "live_worker"], cwd=REPO, env=dict(os.environ),
                                        stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the live worker ended before it took calls (exit {self.process.wait()})")
            if "following calls" in line:
                break
        self._ps = psutil.Process(self.process.pid)
        self._cpu_before = sum(self._ps.cpu_times()[:2])
        self._cpu, self._rss = 0.0, 0.0

    def _measure(self) -> None:
        if self.process.poll() is None:
            self._cpu = sum(self._ps.cpu_times()[:2]) - self._cpu_before
            self._rss = self._ps.memory_info().rss / 2**20

    def cpu_seconds(self) -> float:
        self._measure()
        return self._cpu

    def rss_mb(self) -> float:
        self._measure()
        return self._rss

    def stop(self) -> None:
        self._measure()
        if os.environ.get("LIVE_BENCH_DEBUG"):
            busy = sorted((round(t.user_time + t.system_time, 1) for t in self._ps.threads()), reverse=True)
            print(f"  live worker process threads, CPU s: {busy[:12]}", flush=True)
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(kind: str) -> ThreadWorker | ProcessWorker:
    return ProcessWorker() if kind == "process" else ThreadWorker()
