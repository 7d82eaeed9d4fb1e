"""Queue page and queue API response time, and SQL queries per request, as open cases grow.

    .venv/bin/python benchmarks/queue_perf.py          # MariaDB database portal_bench
Prints p50/p95 per size and writes benchmarks/results/queue_perf.json.
"""

from __future__ import annotations

import random
import time

from _django import percentile, setup_django, write_results

SIZES = (100, 1000, 5000)
REQUESTS = 30


def main() -> None:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from calls.models import Case, CaseStatus
    from core.triage.config import DEFAULT_CONFIG

    Case.objects.all().delete()  # the benchmark's own database: start from an empty queue
    User = get_user_model()
    operator, _ = User.objects.get_or_create(username="bench-operator", defaults={"role": "operator"})
    client = Client()
    client.force_login(operator)
    rng = random.Random(7)
    rate = DEFAULT_CONFIG.wait_rate
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
            case.set_priority(base=rng.uniform(10, 95), band="high", reasons=case.priority_reasons, wait_rate=rate)
            batch.append(case)
        Case.objects.bulk_create(batch, batch_size=1000)
        row = {}
        for name, url in (("page", "/"), ("api", "/api/cases/")):
            client.get(url)  # warm
            timings, queries = [], []
            for _ in range(REQUESTS):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
                queries.append(len(captured))
            row[name] = {
                "p50_ms": round(percentile(timings, 50), 1),
                "p95_ms": round(percentile(timings, 95), 1),
                "queries": max(queries),
            }
            print(f"{size:>5} open cases  {name:<4} p50 {row[name]['p50_ms']:7.1f} ms  "
                  f"p95 {row[name]['p95_ms']:7.1f} ms  {row[name]['queries']} SQL queries")
        results[size] = row
    write_results("queue_perf", {"requests_per_point": REQUESTS, "database": connection.vendor, "sizes": results})


if __name__ == "__main__":
    main()
