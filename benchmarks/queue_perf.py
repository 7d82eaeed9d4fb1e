"""Queue page, its live-refresh fragment and the queue API: response time and SQL queries per
request, as open cases grow.

    .venv/bin/python benchmarks/queue_perf.py          # MariaDB database portal_bench
Prints p50/p95 per size and writes benchmarks/results/queue_perf.json. "rows" is what every open
queue page fetches after each websocket notice (calls:queue_rows), so with 30 operators and 2 calls
a second it is the hottest read of all; "page 2" is the second window of the same queue.
"""

from __future__ import annotations

import os
import random
import time

from _django import percentile, setup_django, write_results

SIZES = (100, 1000, 5000)
REQUESTS = 30
ENDPOINTS = (("page", "/"), ("rows", "/queue/rows/"), ("page 2", "/?page=2"), ("api", "/api/v1/cases/"))
WARM_UP = 3


def settle(connection) -> None:
    """Measure the steady state, not the moments after thousands of rows arrived at once: InnoDB
    recomputes the table's statistics in the background then (seen as p95 outliers on whichever
    endpoint came first), so do it now."""
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE TABLE calls_case")
            cursor.fetchall()


def main() -> None:
    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from calls.models import Case, CaseStatus
    from core.triage.config import DEFAULT_CONFIG, band_for
    from core.triage.waiting import allowance

    Case.objects.all().delete()  # the benchmark's own database: start from an empty queue
    User = get_user_model()
    operator, _ = User.objects.get_or_create(username="bench-operator", defaults={"role": "operator"})
    client = Client()
    client.force_login(operator)
    rng = random.Random(7)
    results = {}
    for size in SIZES:
        missing = size - Case.objects.count()
        now = timezone.now()
        batch = []
        for i in range(missing):
            case = Case(
                caller_number=f"+9198{rng.randrange(10**8):08d}",
                received_at=now - timezone.timedelta(seconds=rng.randrange(3600)),
                language=rng.choice(["en", "en-IN", "hi"]),
                incident_type=rng.choice(["medical", "fire", "crime", "other"]),
                claimed_by=operator if i % 5 == 0 else None,
                status=CaseStatus.CLAIMED if i % 5 == 0 else CaseStatus.OPEN,
                priority_reasons=["sounds fearful 0.82", "words: 'not breathing'"],
            )
            base = rng.uniform(10, 95)
            case.set_priority(base=base, band=band_for(base), reasons=case.priority_reasons, allowance_seconds=allowance(base, DEFAULT_CONFIG))
            batch.append(case)
        Case.objects.bulk_create(batch, batch_size=1000)
        settle(connection)
        row = {}
        for name, url in ENDPOINTS:
            for _ in range(WARM_UP):
                client.get(url)
            timings, cpu, queries = [], [], []
            for _ in range(REQUESTS):
                with CaptureQueriesContext(connection) as captured:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                assert response.status_code == 200
                queries.append(len(captured))
            row[name] = {
                "p50_ms": round(percentile(timings, 50), 1),
                "p95_ms": round(percentile(timings, 95), 1),
                # this process's CPU only (not MariaDB's): steadier than wall time on a busy machine
                "cpu_p50_ms": round(percentile(cpu, 50), 1),
                "queries": max(queries),
                "bytes": len(response.content),
            }
            print(f"{size:>5} open cases  {name:<6} p50 {row[name]['p50_ms']:7.1f} ms  "
                  f"p95 {row[name]['p95_ms']:7.1f} ms  cpu p50 {row[name]['cpu_p50_ms']:6.1f} ms  "
                  f"{row[name]['queries']} SQL queries  {row[name]['bytes'] // 1024} KiB")
        results[size] = row
    write_results("queue_perf", {"requests_per_point": REQUESTS, "database": connection.vendor,
                                 "rows_per_page": settings.QUEUE_PAGE_SIZE, "load_average": os.getloadavg(),
                                 "sizes": results})


if __name__ == "__main__":
    main()
