"""Choose the emotion model's settings on VALIDATION actors only (never the test actors).

Two modes; RAVDESS actors 21-24 (the shipped model's test actors) are neither trained on nor
scored in either (their features share the cache file of the whole dataset, that is all).

* ``--mode best`` (architecture search): each candidate trains on actors 1-16 and keeps its
  best epoch on actors 17-20 (the shipped model's validation actors).
* ``--mode inner`` (feature-resolution candidates): each candidate trains on actors 1-20
  minus one inner fold, for the full schedule with no early stopping (as protocol B does),
  and is scored on that fold; two inner folds, 17-20 and 13-16 (2 male + 2 female each).
  Reports unweighted accuracy, distress AUC, telephone UA and the male/female gap.

    .venv/bin/python benchmarks/emotion_select.py [--mode best|inner] [--only NAME ...]
        [--inner-fold 17-20|13-16] [--epochs N] [--threads N]
Writes benchmarks/results/emotion_select.json (mode best) or emotion_select_inner.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core.emotion.datasets import default_ravdess_dir, fingerprint, labels_of, read_dataset  # noqa: E402
from core.emotion.feature_sets import (  # noqa: E402
    VARIANT_CLEAN,
    VARIANT_TELEPHONE,
    compute_features,
    default_cache_dir,
)
from core.emotion.features import DEFAULT_CONFIG, FeatureConfig  # noqa: E402
from core.emotion.metrics import clip_probabilities, evaluate  # noqa: E402
from core.emotion.network import fit  # noqa: E402
from core.emotion.train_config import TrainConfig  # noqa: E402
from core.emotion.training import RAVDESS_TEST_ACTORS, RAVDESS_VAL_ACTORS  # noqa: E402

BASE = TrainConfig().arch
CANDIDATES = {
    "base": {},
    "wide": {"filters": [96, 128, 192, 256]},
    "deep5": {"filters": [64, 96, 128, 160, 192], "kernels": [5, 5, 3, 3, 3]},
    "no_specdrop": {"spatial_dropout": 0.0},
    "specdrop02": {"spatial_dropout": 0.2},
    "dense_drop05": {"dropout": 0.5, "dense": 128},
}
TRAIN_CHANGES: dict[str, dict] = {"epochs50": {"epochs": 50}}
FEATURE_CHANGES = {"hires": {"n_fft": 1024, "n_mels": 128}}
INNER_FOLDS = {"17-20": ["17", "18", "19", "20"], "13-16": ["13", "14", "15", "16"]}


def candidate(name: str, epochs: int, threads: int) -> tuple[TrainConfig, FeatureConfig]:
    known = {**CANDIDATES, **TRAIN_CHANGES, **FEATURE_CHANGES}
    if name not in known:
        raise SystemExit(f"unknown candidate {name!r}; known: {', '.join(known)}")
    tc = TrainConfig(**{"epochs": epochs, "arch": {**BASE, **CANDIDATES.get(name, {})}, "threads": threads,
                        **TRAIN_CHANGES.get(name, {})})
    config = FeatureConfig(**{**DEFAULT_CONFIG.to_dict(), **FEATURE_CHANGES.get(name, {})})
    return tc, config


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--mode", choices=["best", "inner"], default="best")
    ap.add_argument("--epochs", type=int, default=None,
                    help="default: 30 (mode best), the shipped schedule's 50 (mode inner)")
    ap.add_argument("--only", action="append")
    ap.add_argument("--inner-fold", action="append", choices=list(INNER_FOLDS))
    ap.add_argument("--threads", type=int, default=TrainConfig().threads)
    args = ap.parse_args()
    epochs = args.epochs or (30 if args.mode == "best" else TrainConfig().epochs)
    dataset = Path(args.dataset)
    clips = read_dataset(dataset)
    labels = labels_of(clips)
    genders = np.asarray([c.gender for c in clips])
    y = np.asarray([labels.index(c.label) for c in clips])
    spk = np.asarray([c.speaker for c in clips])
    if args.mode == "best":
        splits = {"17-20": RAVDESS_VAL_ACTORS}
    else:
        splits = {k: v for k, v in INNER_FOLDS.items()
                  if not args.inner_fold or k in args.inner_fold}
    names = args.only or ([*CANDIDATES, *TRAIN_CHANGES] if args.mode == "best"
                          else ["base", *FEATURE_CHANGES])
    out_path = Path(__file__).parent / "results" / (
        "emotion_select.json" if args.mode == "best" else "emotion_select_inner.json")
    results: dict = {}
    fp = fingerprint(clips, dataset)
    for name in names:
        tc, config = candidate(name, epochs, args.threads)
        fs = compute_features(clips, config, n_augment=tc.n_augment, seed=tc.seed,
                              data_fingerprint=fp, cache_dir=default_cache_dir())
        for split, val_actors in splits.items():
            val = np.flatnonzero(np.isin(spk, val_actors))
            train = np.flatnonzero(~np.isin(spk, list(val_actors) + RAVDESS_TEST_ACTORS))
            t = time.perf_counter()
            r = fit(fs, y, labels, train, val if args.mode == "best" else None, tc, config)
            row = {"train": tc.to_dict(), "features": config.to_dict(), "epochs": tc.epochs,
                   "val_actors": val_actors, "seconds": round(time.perf_counter() - t),
                   "params": int(r.model.count_params())}
            for variant_name, variant in (("clean", VARIANT_CLEAN),
                                          ("telephone", VARIANT_TELEPHONE)):
                m = evaluate(clip_probabilities(r.model.model_fn, fs, val, variant), y[val],
                             labels, genders[val])
                pg = {g: v["unweighted_accuracy"] for g, v in m["per_gender"].items()}
                row[variant_name] = {"ua": m["unweighted_accuracy"],
                                     "distress_auc": m.get("distress_auc"),
                                     "male": pg.get("male"), "female": pg.get("female"),
                                     "gap": round(pg["female"] - pg["male"], 4)}
            if args.mode == "best":
                row["best_val_ua"] = max(h["val_ua"] for h in r.history)
                row["best_epoch"] = r.best_epoch
                row["val_ua_by_epoch"] = [h["val_ua"] for h in r.history]
            key = name if args.mode == "best" else f"{name}@{split}"
            results[key] = row
            c, tel = row["clean"], row["telephone"]
            print(f"{key}: UA {c['ua']:.3f} AUC {c['distress_auc']:.3f} tel UA {tel['ua']:.3f} "
                  f"male {c['male']:.3f} female {c['female']:.3f} gap {c['gap'] * 100:+.1f} "
                  f"({row['seconds']} s)", flush=True)
            # Re-read before writing: inner folds may run as parallel processes.
            out_path.parent.mkdir(exist_ok=True)
            stored = json.loads(out_path.read_text()) if out_path.exists() else {}
            results = {**stored, key: row}
            out_path.write_text(json.dumps(results, indent=1))
    if args.mode == "inner":
        summarise(results)


def summarise(results: dict) -> None:
    """Mean over the inner folds of each candidate that has all of them."""
    by_name: dict[str, list[dict]] = {}
    for key, row in results.items():
        by_name.setdefault(key.split("@")[0], []).append(row)
    for name, rows in by_name.items():
        if len(rows) < len(INNER_FOLDS):
            continue
        mean = {k: float(np.mean([r["clean"][k] for r in rows])) for k in
                ("ua", "distress_auc", "male", "female", "gap")}
        tel = float(np.mean([r["telephone"]["ua"] for r in rows]))
        print(f"inner mean {name}: UA {mean['ua']:.3f} AUC {mean['distress_auc']:.3f} "
              f"tel drop {(mean['ua'] - tel) * 100:.1f} male {mean['male']:.3f} "
              f"female {mean['female']:.3f} gap {mean['gap'] * 100:+.1f}")


if __name__ == "__main__":
    main()
