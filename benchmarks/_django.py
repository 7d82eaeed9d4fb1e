"""Shared set-up for benchmarks that need Django: a database of their own, migrated."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


def setup_django(default_db: str = "mysql://root@127.0.0.1:3306/portal_bench") -> None:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DATABASE_URL", default_db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "emergency_portal.test_settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    url = os.environ["DATABASE_URL"]
    if url.startswith("mysql://"):
        import MySQLdb

        rest = url.split("://", 1)[1]
        creds, hostpart = rest.rsplit("@", 1)
        host_port, name = hostpart.split("/", 1)
        host, _, port = host_port.partition(":")
        conn = MySQLdb.connect(host=host, port=int(port or 3306), user=creds.split(":")[0])
        conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        conn.close()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    print(f"wrote {path.relative_to(REPO)}")
    return path


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))
