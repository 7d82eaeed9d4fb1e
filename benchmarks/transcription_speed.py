"""Real-time factor and peak memory of each transcription engine on ONE core.

    .venv/bin/python benchmarks/transcription_speed.py [--ravdess DIR] [--minutes 10]
        [--models-dir DIR] [--language en]

For each engine (Whisper, PocketSphinx, and Vosk when a model is installed for the language) a fresh
child process pinned to one CPU core loads the engine, transcribes 30 s of real speech (RAVDESS
clips joined with low noise) and then a long call of --minutes minutes built the same way,
while a thread samples the process's RSS every 50 ms. Reported: model load time and the memory
it takes, real-time factor on both lengths, peak RSS, and how much the peak grew between the
30 s and the long run (flat memory means it does not grow with call length).
Writes benchmarks/results/transcription_speed.json.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "WHISPER_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from benchmarks._measure import PeakRss  # noqa: E402


def default_ravdess() -> Path:
    return Path(os.environ.get("RAVDESS_DIR", ROOT.parent / "shared" / "data" / "ravdess"))


def build_call(root: Path, seconds: float, seed: int = 0) -> np.ndarray:
    """Real speech of about `seconds`: RAVDESS clips in a shuffled order with 0.3-1.5 s of low
    noise between them, as in a call where the caller pauses."""
    from core.audio import load

    with open(root / "metadata.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    pieces, total, i = [], 0, 0
    target = int(seconds * 16000)
    while total < target:
        clip = load(root / rows[order[i % len(rows)]]["path"])
        gap = (rng.standard_normal(int(rng.uniform(0.3, 1.5) * 16000)) * 0.002).astype(np.float32)
        pieces += [clip, gap]
        total += len(clip) + len(gap)
        i += 1
    return np.concatenate(pieces)[:target]


MB = 2**20


def child(engine: str, args) -> dict:
    from core.speech import transcribe as T

    root = Path(args.ravdess)
    short = build_call(root, 30, seed=1)
    long = build_call(root, args.minutes * 60, seed=2)
    proc = psutil.Process()
    base = proc.memory_info().rss
    t0 = time.perf_counter()
    T.get_engine(args.language, models_dir=args.models_dir, engine=engine)
    load_s = time.perf_counter() - t0
    loaded = proc.memory_info().rss
    T.transcribe(short[: 16000 * 3], language=args.language, models_dir=args.models_dir,
                 engine=engine)  # warm-up
    with PeakRss() as p_short:
        t_short = T.transcribe(short, language=args.language, models_dir=args.models_dir,
                               engine=engine)
    with PeakRss() as p_long:
        t_long = T.transcribe(long, language=args.language, models_dir=args.models_dir,
                              engine=engine)
    return {
        "engine": t_long.engine,
        "model": t_long.model,
        "cpu_affinity": sorted(proc.cpu_affinity()),
        "load_seconds": round(load_s, 3),
        "model_memory_mb": round((loaded - base) / MB, 1),
        "rtf_30s": t_short.real_time_factor,
        "long_audio_seconds": t_long.audio_seconds,
        "rtf_long": t_long.real_time_factor,
        "long_words": len(t_long.words),
        "peak_rss_30s_mb": round(p_short.peak / MB, 1),
        "peak_rss_long_mb": round(p_long.peak / MB, 1),
        "rss_growth_30s_to_long_mb": round((p_long.peak - p_short.peak) / MB, 1),
        "audio_array_mb": round(long.nbytes / MB, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ravdess", default=str(default_ravdess()))
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--language", default="en")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" /
                                         "transcription_speed.json"))
    args = ap.parse_args()
    if args.child:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
        print(json.dumps(child(args.child, args)))
        return

    from core.speech import transcribe as T
    from core.speech import vosk_models

    results = {}
    for engine in T.ENGINES:
        if engine not in T.available_engines(args.language, args.models_dir):
            where = args.models_dir or vosk_models.default_models_dir()
            results[engine] = {"not_run": f"no {engine} model for {args.language} in {where}"}
            print(f"{engine}: NOT RUN ({results[engine]['not_run']})")
            continue
        cmd = [sys.executable, __file__, "--child", engine, "--ravdess", args.ravdess,
               "--minutes", str(args.minutes), "--language", args.language]
        if args.models_dir:
            cmd += ["--models-dir", args.models_dir]
        print(f"{engine}: running on one core ({args.minutes:g} min of audio)...", flush=True)
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            results[engine] = {"error": done.stderr.strip()[-2000:]}
            print(f"{engine}: FAILED\n{done.stderr[-2000:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results[engine] = r
        print(f"{engine} ({r['model']}), core {r['cpu_affinity']}:\n"
              f"  load {r['load_seconds']:.2f} s, +{r['model_memory_mb']:.0f} MB\n"
              f"  RTF 30 s: {r['rtf_30s']:.3f}   RTF {r['long_audio_seconds'] / 60:.0f} min: "
              f"{r['rtf_long']:.3f} ({r['long_words']} words)\n"
              f"  peak RSS 30 s: {r['peak_rss_30s_mb']:.0f} MB   peak RSS long: "
              f"{r['peak_rss_long_mb']:.0f} MB   growth: {r['rss_growth_30s_to_long_mb']:+.1f} MB"
              f" (the long audio array itself is {r['audio_array_mb']:.0f} MB float32, "
              "held by the caller before transcription starts)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"language": args.language, "minutes": args.minutes,
                               "engines": results}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
