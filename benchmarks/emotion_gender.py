"""Voice gender estimates (core.emotion.gender) on held-out actors.

    .venv/bin/python benchmarks/emotion_gender.py [--dataset DIR] [--per-actor N]
        [--model-dir DIR] [--learned-only]
Pitch estimator: threshold candidates are scored on RAVDESS actors 1-16 only; figures are
reported for actors 17-24. Learned estimator (the model version's gender.json, trained on its
training actors): figures on that version's test actors, every clip, through
estimate_gender(samples, model_dir=...). Writes benchmarks/results/emotion_gender.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core import audio  # noqa: E402
from core.emotion import SHIPPED_CNN_MODEL, gender  # noqa: E402
from core.emotion.datasets import default_ravdess_dir, read_dataset  # noqa: E402

TRAIN = {f"{a:02d}" for a in range(1, 17)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--per-actor", type=int, default=20)
    ap.add_argument("--model-dir", default=str(ROOT / "ml_models" / SHIPPED_CNN_MODEL))
    ap.add_argument("--learned-only", action="store_true")
    args = ap.parse_args()
    clips = read_dataset(args.dataset)
    out = ROOT / "benchmarks" / "results" / "emotion_gender.json"
    res = json.loads(out.read_text()) if out.exists() else {}
    res["learned"] = learned_figures(clips, Path(args.model_dir))
    print(json.dumps({"learned": res["learned"]}, indent=1))
    if args.learned_only:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(res, indent=1))
        return
    by_actor: dict[str, list] = {}
    for c in clips:
        by_actor.setdefault(c.speaker, []).append(c)
    chosen = []
    for _spk, cs in sorted(by_actor.items()):
        step = max(1, len(cs) // args.per_actor)
        chosen += cs[::step][: args.per_actor]
    rows, t0 = [], time.perf_counter()
    for c in chosen:
        f0, voiced = gender.median_f0(audio.load(c.path))
        rows.append((c.speaker, c.gender, c.label, f0, voiced))
    seconds_per_clip = (time.perf_counter() - t0) / len(chosen)

    def accuracy(rows_, threshold):
        est = [gender.estimate_from_f0(f0, v, threshold_hz=threshold) for _, _, _, f0, v in rows_]
        known = [(e.label, g) for e, (_, g, *_r) in zip(est, rows_, strict=True)
                 if e.label != "unknown"]
        acc = np.mean([lab == g for lab, g in known]) if known else 0.0
        return float(acc), len(known) / len(rows_)

    train_rows = [r for r in rows if r[0] in TRAIN]
    held_rows = [r for r in rows if r[0] not in TRAIN]
    scores = {th: accuracy(train_rows, th) for th in range(120, 221, 5)}
    best = max(scores, key=lambda th: (scores[th][0], -abs(th - 165)))
    res |= {"threshold_chosen_on_train_hz": best, "threshold_shipped_hz": gender.THRESHOLD_HZ,
           "train_accuracy_at_chosen": scores[best][0],
           "seconds_per_clip": round(seconds_per_clip, 3), "clips": len(rows)}
    acc, coverage = accuracy(held_rows, gender.THRESHOLD_HZ)
    res["held_out"] = {"actors": sorted({r[0] for r in held_rows}), "accuracy": round(acc, 4),
                       "coverage": round(coverage, 4)}
    per_label = {}
    for lab in sorted({r[2] for r in held_rows}):
        per_label[lab] = round(accuracy([r for r in held_rows if r[2] == lab],
                                        gender.THRESHOLD_HZ)[0], 4)
    res["held_out"]["accuracy_by_emotion"] = per_label
    for g in ("female", "male"):
        res["held_out"][f"accuracy_{g}"] = round(
            accuracy([r for r in held_rows if r[1] == g], gender.THRESHOLD_HZ)[0], 4)
    print(json.dumps(res, indent=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))


def learned_figures(clips, model_dir: Path) -> dict:
    meta = json.loads((model_dir / "metadata.json").read_text())
    test = set(meta["test_actors"])
    rows = []
    t0 = time.perf_counter()
    for c in clips:
        if c.speaker in test:
            e = gender.estimate_gender(audio.load(c.path), model_dir=model_dir)
            rows.append((c.gender, e.label))
    seconds = (time.perf_counter() - t0) / max(1, len(rows))
    decided = [(g, lab) for g, lab in rows if lab != "unknown"]
    res = {"model_version": meta["version"], "test_actors": sorted(test), "clips": len(rows),
           "coverage": round(len(decided) / len(rows), 4),
           "accuracy": round(float(np.mean([g == lab for g, lab in decided])), 4),
           "seconds_per_clip": round(seconds, 4)}
    for g in ("female", "male"):
        sub = [(a, b) for a, b in decided if a == g]
        res[f"accuracy_{g}"] = round(float(np.mean([a == b for a, b in sub])), 4)
    return res


if __name__ == "__main__":
    main()
