"""Websocket fan-out: latency from a case change to its receipt on N clients, and memory per client.

    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/ws_fanout.py [--sizes 10 100 500]

Starts Daphne (emergency_portal.asgi) in a subprocess on 127.0.0.1 with the Redis channel layer and
a throw-away SQLite database holding one operator; connects N `websockets` clients to /ws/queue/
with that operator's session cookie; then broadcasts case changes exactly as a service's on-commit
hook does (calls.broadcast.case_changed) and times each notice until every client has it.
Memory: RSS of the server process before and after the N clients connect (fresh server per N).
Prints the figures and writes benchmarks/results/ws_fanout.json. Bounded: stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WORKDIR = Path(tempfile.mkdtemp(prefix="ws-fanout-"))
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "emergency_portal.settings",
    "SECRET_KEY": "benchmark-only-secret",
    "SECURE_SSL": "0",
    "DATABASE_URL": f"sqlite:///{WORKDIR / 'bench.sqlite3'}",
    "REDIS_URL": REDIS_URL,
    "CHANNELS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
    "ALLOWED_HOSTS": "127.0.0.1",
    "MEDIA_ROOT": str(WORKDIR / "media"),
    "LOG_LEVEL": "WARNING",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

import psutil  # noqa: E402
import websockets  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from calls import broadcast  # noqa: E402


def session_cookie() -> str:
    from accounts.models import User

    call_command("migrate", verbosity=0, interactive=False)
    user = User.objects.create_user(username="bench-operator", password=uuid.uuid4().hex, role="operator")
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    daphne = Path(sys.executable).with_name("daphne")
    process = subprocess.Popen(
        [str(daphne), "-b", "127.0.0.1", "-p", str(port), "emergency_portal.asgi:application"],
        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            time.sleep(0.5)  # let the first request-independent imports settle
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("daphne did not start")


def rss(process: subprocess.Popen) -> int:
    return psutil.Process(process.pid).memory_info().rss


async def connect_all(url: str, cookie: str, n: int) -> list:
    async def one():
        ws = await websockets.connect(
            # the page's own origin: scheme, host and port (another port is another origin)
            url, additional_headers={"Cookie": cookie}, origin="http://" + url.split("/")[2], open_timeout=30,
            max_queue=None, ping_interval=None,  # the server pings; a busy client must not drop out
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert hello["type"] == "hello", hello
        return ws

    clients = []
    for start in range(0, n, 50):  # batches: do not flood the accept queue of a 2-core box
        clients += await asyncio.gather(*(one() for _ in range(min(50, n - start))))
    return clients


async def measure(clients: list, rounds: int) -> list[float]:
    latencies: list[float] = []
    send = sync_to_async(broadcast.case_changed, thread_sensitive=False)
    await send(1, "score_changed", marker=-1)  # warm-up: opens the Redis connections; ignored below
    await asyncio.sleep(0.5)

    async def receive(ws, marker: int) -> float:
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") == "case" and message.get("marker") == marker:
                return time.perf_counter()

    for marker in range(rounds):
        waiting = [asyncio.create_task(receive(ws, marker)) for ws in clients]
        await asyncio.sleep(0)
        sent = time.perf_counter()
        await send(1, "score_changed", marker=marker)
        received = await asyncio.wait_for(asyncio.gather(*waiting), timeout=30)
        latencies += [(t - sent) * 1000 for t in received]
        await asyncio.sleep(0.05)
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run_size(n: int, cookie: str, rounds: int) -> dict:
    port = free_port()
    server = start_server(port)
    try:
        # One client first, so lazily imported code is loaded before the baseline.
        warm = await connect_all(f"ws://127.0.0.1:{port}/ws/queue/", cookie, 1)
        await warm[0].close()
        await asyncio.sleep(0.5)
        before = rss(server)
        clients = await connect_all(f"ws://127.0.0.1:{port}/ws/queue/", cookie, n)
        await asyncio.sleep(1.0)
        after = rss(server)
        latencies = await measure(clients, rounds)
        await asyncio.gather(*(ws.close() for ws in clients))
    finally:
        server.terminate()
        server.wait(10)
    return {
        "clients": n,
        "rounds": rounds,
        "receipts": len(latencies),
        "latency_ms_p50": round(percentile(latencies, 50), 2),
        "latency_ms_p95": round(percentile(latencies, 95), 2),
        "latency_ms_max": round(max(latencies), 2),
        "server_rss_mb_before": round(before / 2**20, 1),
        "server_rss_mb_after": round(after / 2**20, 1),
        "rss_kb_per_connection": round((after - before) / 1024 / n, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    cookie = session_cookie()
    results = []
    for n in args.sizes:
        result = asyncio.run(run_size(n, cookie, args.rounds))
        results.append(result)
        print(
            f"N={n:4d}  p50 {result['latency_ms_p50']:7.2f} ms  p95 {result['latency_ms_p95']:7.2f} ms  "
            f"max {result['latency_ms_max']:7.2f} ms  RSS {result['server_rss_mb_before']} -> "
            f"{result['server_rss_mb_after']} MB  ({result['rss_kb_per_connection']} KB/connection)",
            flush=True,
        )
    report = {
        "benchmark": "ws_fanout",
        "channel_layer": "channels_redis.core.RedisChannelLayer",
        "server": "daphne, 1 process, 127.0.0.1",
        "cpus": os.cpu_count(),
        "note": "latency: broadcast.case_changed() call to receipt on every client (one process holds all clients)",
        "results": results,
    }
    out = ROOT / "benchmarks" / "results" / "ws_fanout.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
