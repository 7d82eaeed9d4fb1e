"""End to end with one real Celery worker: upload of a 5-second call -> first score -> final score.

    .venv/bin/python benchmarks/pipeline_latency.py [--calls 12] [--burst 12]
First score = emotion step done (the acoustic score); final = words analysed and re-scored.
Needs MariaDB and Redis on 127.0.0.1 and the RAVDESS corpus. Writes results/pipeline_latency.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _django import REPO, percentile, setup_django, write_results

BROKER = "redis://127.0.0.1:6379/13"
RAVDESS = Path(os.environ.get("RAVDESS_DIR", REPO.parent / "shared" / "data" / "ravdess"))


def five_second_calls(n: int) -> list[bytes]:
    """Real speech: RAVDESS clips of held-out-style variety, padded/cut to exactly 5 s, as WAV bytes."""
    import io

    import numpy as np

    from core import audio

    clips = sorted(RAVDESS.glob("Actor_2[34]/*.flac"))[: n * 2]
    calls = []
    for i in range(n):
        samples = np.concatenate([audio.load(clips[2 * i]), audio.load(clips[2 * i + 1])])[: 5 * 16_000]
        buffer = io.BytesIO()
        audio.write_wav(buffer, samples)
        calls.append(buffer.getvalue())
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=12, help="calls sent one at a time (latency)")
    parser.add_argument("--burst", type=int, default=12, help="calls sent at once (throughput)")
    args = parser.parse_args()
    media = tempfile.mkdtemp(prefix="bench-media-")
    os.environ.update({"MEDIA_ROOT": media, "CELERY_BROKER_URL": BROKER, "CELERY_VISIBILITY_TIMEOUT": "60"})
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from analysis.models import AnalysisStep, StepName, StepState
    from calls.services import case_create

    user, _ = get_user_model().objects.get_or_create(username="bench-operator", defaults={"role": "operator"})
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "emergency_portal", "worker", "-Q", "emotion,words", "-c", "2",
         "--without-gossip", "--without-mingle", "-l", "warning"],
        cwd=REPO, env={**os.environ}, start_new_session=True,
    )
    try:
        calls = five_second_calls(max(args.calls, args.burst) + 1)

        def send(data: bytes):
            started = time.time()
            case = case_create(created_by=user, caller_number="+919876543210",
                               audio=SimpleUploadedFile("call.wav", data)).case
            return case, started

        def finished(case) -> dict | None:
            steps = {s.name: s for s in AnalysisStep.objects.filter(recording__case=case)}
            if all(s.state in (StepState.DONE, StepState.FAILED, StepState.UNAVAILABLE) for s in steps.values()):
                return steps
            return None

        def wait(case, timeout=300):
            deadline = time.time() + timeout
            while time.time() < deadline:
                steps = finished(case)
                if steps:
                    return steps
                time.sleep(0.05)
            raise TimeoutError(f"case {case.pk} not analysed in {timeout} s")

        wait(send(calls[-1])[0])  # warm-up: the worker's processes load the model
        first, final = [], []
        for data in calls[: args.calls]:
            case, started = send(data)
            steps = wait(case)
            first.append(steps[StepName.EMOTION].finished_at.timestamp() - started)
            final.append(steps[StepName.TEXT].finished_at.timestamp() - started)
        burst_started = time.time()
        cases = [send(data)[0] for data in calls[: args.burst]]
        for case in cases:
            wait(case)
        burst_seconds = time.time() - burst_started
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
    result = {
        "worker": "1 Celery worker, prefork -c 2, queues emotion+words",
        "database": connection.vendor,
        "call_seconds": 5.0,
        "first_score_s": {"p50": round(percentile(first, 50), 3), "p95": round(percentile(first, 95), 3)},
        "final_score_s": {"p50": round(percentile(final, 50), 3), "p95": round(percentile(final, 95), 3)},
        "burst_calls": args.burst,
        "burst_seconds": round(burst_seconds, 1),
        "calls_per_minute_per_worker": round(args.burst / burst_seconds * 60, 1),
    }
    print(f"first score (emotion)  p50 {result['first_score_s']['p50']:.3f} s  p95 {result['first_score_s']['p95']:.3f} s")
    print(f"final score (words)    p50 {result['final_score_s']['p50']:.3f} s  p95 {result['final_score_s']['p95']:.3f} s")
    print(f"throughput: {args.burst} calls in {burst_seconds:.1f} s = {result['calls_per_minute_per_worker']} calls/min/worker")
    write_results("pipeline_latency", result)


if __name__ == "__main__":
    main()
