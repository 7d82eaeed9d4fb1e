"""Inference speed and memory of the emotion model on ONE core.

    .venv/bin/python benchmarks/emotion_inference.py [--model-dir DIR] [--dataset DIR]
Single 5-second clip (features + model, after warm-up), batch throughput, and the process's
memory with the model loaded. Writes benchmarks/results/emotion_inference.json.
"""

from __future__ import annotations

import os

# One core: set before numpy/TensorFlow start their thread pools.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("EMOTION_TF_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from core import audio  # noqa: E402
from core.emotion import SHIPPED_EMOTION_MODEL  # noqa: E402
from core.emotion.datasets import default_ravdess_dir, read_dataset  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=str(ROOT / "ml_models" / SHIPPED_EMOTION_MODEL))
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--batch", type=int, default=200)
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass
    proc = psutil.Process()
    rss_start = proc.memory_info().rss
    t = time.perf_counter()
    from core.emotion.classifier import load_classifier

    clf = load_classifier(args.model_dir)
    load_s = time.perf_counter() - t
    rss_loaded = proc.memory_info().rss

    clips = read_dataset(args.dataset)
    test = set(clf.metadata["test_actors"])
    paths = [c.path for c in clips if c.speaker in test]
    # A 5-second call clip: two test clips back to back, cut to exactly 5 s.
    five = np.concatenate([audio.load(paths[0]), audio.load(paths[1])])[: 5 * 16_000]
    for _ in range(5):
        clf.classify(five)
    feat_t, model_t, total_t = [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        w = clf.windows(five)
        t1 = time.perf_counter()
        clf.predict_windows(w)
        t2 = time.perf_counter()
        feat_t.append(t1 - t0)
        model_t.append(t2 - t1)
        t3 = time.perf_counter()
        clf.classify(five)
        total_t.append(time.perf_counter() - t3)
    batch = [audio.load(p) for p in (paths * 4)[: args.batch]]
    t = time.perf_counter()
    clf.classify_batch(batch)
    batch_s = time.perf_counter() - t
    seconds_audio = sum(len(b) for b in batch) / 16_000
    res = {
        "model_version": clf.version,
        "threads": 1,
        "load_seconds": round(load_s, 2),
        "single_5s_clip_ms": {
            "total_median": round(1000 * float(np.median(total_t)), 2),
            "total_p90": round(1000 * float(np.percentile(total_t, 90)), 2),
            "features_median": round(1000 * float(np.median(feat_t)), 2),
            "model_median": round(1000 * float(np.median(model_t)), 2),
            "windows_per_clip": int(len(clf.windows(five))),
        },
        "batch": {"clips": len(batch), "seconds": round(batch_s, 2),
                  "clips_per_second": round(len(batch) / batch_s, 1),
                  "audio_seconds_per_second": round(seconds_audio / batch_s, 1)},
        "memory_mb": {
            "rss_before_load": round(rss_start / 2**20, 1),
            "rss_after_load": round(rss_loaded / 2**20, 1),
            "rss_end": round(proc.memory_info().rss / 2**20, 1),
            "peak_rss": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        },
    }
    print(json.dumps(res, indent=1))
    out = ROOT / "benchmarks" / "results" / "emotion_inference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
