"""Speed and memory of the emotion model versions on ONE core, through the real path.

    .venv/bin/python benchmarks/emotion_inference.py [--model-dir DIR ...] [--dataset DIR]
For each version (default: both shipped ones, each in a fresh process): load time and memory,
then ``classify`` (what the pipeline step and ``classify_audio`` call) on calls of 2, 5, 10 and
30 seconds of real speech, warm, median and 90th percentile; and decoding a file apart from it.
Writes benchmarks/results/emotion_inference.json.
"""

from __future__ import annotations

import os

# One core: set before numpy/TensorFlow start their thread pools.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("EMOTION_TF_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.emotion import SHIPPED_BASE_MODEL, SHIPPED_CNN_MODEL, SHIPPED_EMOTION_MODEL  # noqa: E402
from core.emotion.datasets import default_ravdess_dir, read_dataset  # noqa: E402

LENGTHS = (2, 5, 10, 30)


def measure(model_dir: str, dataset: str, repeats: int) -> dict:
    import psutil

    from core import audio
    from core.emotion.classifier import load_classifier

    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass
    proc = psutil.Process()
    rss_start = proc.memory_info().rss
    started = time.perf_counter()
    clf = load_classifier(model_dir)
    load_s = time.perf_counter() - started
    rss_loaded = proc.memory_info().rss
    paths = [c.path for c in read_dataset(dataset) if c.speaker in ("21", "22", "23", "24")][:24]
    speech = np.concatenate([audio.load(p) for p in paths])
    per_length = {}
    for seconds in LENGTHS:
        clip = speech[: seconds * 16_000]
        clf.classify(clip)  # warm for this length
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            clf.classify(clip)
            times.append(time.perf_counter() - t)
        per_length[f"{seconds}s"] = {"median_ms": round(1000 * float(np.median(times)), 1),
                                     "p90_ms": round(1000 * float(np.percentile(times, 90)), 1)}
    decode = []
    for p in paths[:12]:
        t = time.perf_counter()
        audio.decode(p)
        decode.append(time.perf_counter() - t)
    return {"model_version": clf.version, "model_kind": clf.metadata["model_kind"], "threads": 1,
            "load_seconds": round(load_s, 2), "classify": per_length,
            "decode_file_ms_median": round(1000 * float(np.median(decode)), 1),
            "memory_mb": {"before_load": round(rss_start / 2**20, 1), "after_load": round(rss_loaded / 2**20, 1),
                          "end": round(proc.memory_info().rss / 2**20, 1)}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", action="append",
                    default=None, help="a model version folder (repeat for several)")
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    dirs = args.model_dir or [str(ROOT / "ml_models" / v) for v in dict.fromkeys((SHIPPED_EMOTION_MODEL,
                                                                                   SHIPPED_BASE_MODEL,
                                                                                   SHIPPED_CNN_MODEL))]
    results = []
    for model_dir in dirs:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            r = pool.submit(measure, model_dir, args.dataset, args.repeats).result()
        results.append(r)
        print(f"{r['model_version']} ({r['model_kind']}): load {r['load_seconds']} s, "
              f"+{r['memory_mb']['after_load'] - r['memory_mb']['before_load']:.0f} MB; classify "
              + ", ".join(f"{k} {v['median_ms']} ms" for k, v in r["classify"].items())
              + f"; decoding a file {r['decode_file_ms_median']} ms", flush=True)
    out = ROOT / "benchmarks" / "results" / "emotion_inference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
