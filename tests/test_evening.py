"""A short evening at a call centre, in CI: calls at 2 a second with real audio, 10 operators at their
queues, 20 quiet seconds, then each fault in turn (the emotion worker killed, Redis restarted, the web
server killed, every database connection dropped); then every call must exist exactly once and be
analysed or visibly failed, and the first score come within seconds while nothing was broken
(benchmarks/evening.py, whose full run is in docs/models.md).

The first score's budget itself (p95 <= 1 s before the faults) is the benchmark's verdict, printed
and written with its figures, not asserted here: it depends on the machine (met with p95 0.4-0.7 s
on one 2-core machine; on a slower 2-core AMD EPYC with AVX2 only, the emotion worker barely kept
up with 2 calls a second and p50 was 1.7 s and 4.0 s in two runs). What the test
holds on any machine is that the first score does not stall: a median of QUIET_STALL_S would be a
page or a worker taking the cores (pages refreshing every 500 ms once made it 21 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.celery]
QUIET_STALL_S = 10.0  # two CI runs on the slower machine: medians 1.7 s and 4.0 s


def test_a_short_evening_loses_nothing_and_keeps_the_first_score_budget(ravdess_dir):
    (REPO / "benchmarks" / "results" / "evening-ci.json").unlink(missing_ok=True)  # never read a stale report
    command = [sys.executable, "benchmarks/evening.py", "--seconds", "60", "--quiet-first", "20", "--rate", "2",
               "--operators", "10", "--faults", "worker,redis,web,db", "--drain", "480", "--name", "evening-ci"]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "RAVDESS_DIR": str(ravdess_dir)})
    report = json.loads((REPO / "benchmarks" / "results" / "evening-ci.json").read_text())
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert report["ok"] and report["calls_sent"] == report["cases"] == 120
    assert not report["missing"] and not report["duplicated"] and not report["left_analysing"]
    assert report["intake"]["gave_up"] == 0 and not report["intake"]["refused"]
    assert [f["fault"] for f in report["faults"]] == ["worker", "redis", "web", "db"]
    assert all(f["pages_live_again_after_s"] is not None for f in report["faults"]), report["faults"]
    assert report["pages_connected_at_end"] == 10
    quiet = report["first_score_before_faults_s"]
    assert quiet["n"] >= 30 and quiet["p50"] <= QUIET_STALL_S, (quiet, report["first_score_s"])
