"""Choose the emotion CNN's architecture on VALIDATION actors only (never the test actors).

Trains each candidate on RAVDESS actors 1-16 and scores it on actors 17-20 (the shipped
model's validation actors); actors 21-24 (its test actors) are not read at all.

    .venv/bin/python benchmarks/emotion_select.py [--dataset DIR] [--epochs N] [--only NAME]
Writes benchmarks/results/emotion_select.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from analysis.datasets import default_ravdess_dir, fingerprint, labels_of, read_dataset  # noqa: E402
from analysis.features import DEFAULT_CONFIG  # noqa: E402
from analysis.training import (  # noqa: E402
    RAVDESS_TEST_ACTORS,
    RAVDESS_VAL_ACTORS,
    TrainConfig,
    clip_probabilities,
    compute_features,
    default_cache_dir,
    evaluate,
    fit,
)

BASE = TrainConfig().arch
CANDIDATES = {
    "base": {},
    "utt_norm": {"utterance_norm": True},
    "wide": {"filters": [96, 128, 192, 256]},
    "deep5": {"filters": [64, 96, 128, 160, 192], "kernels": [5, 5, 3, 3, 3]},
    "no_specdrop": {"spatial_dropout": 0.0},
    "specdrop02": {"spatial_dropout": 0.2},
    "dense_drop05": {"dropout": 0.5, "dense": 128},
}
TRAIN_CHANGES = {"mixup": {"mixup": 0.4}, "epochs50": {"epochs": 50},
                 "gender_pitch": {"gender_pitch": True}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--only", action="append")
    ap.add_argument("--augment", type=int, default=TrainConfig().n_augment,
                    help="random augmented copies per clip (a separate feature cache)")
    args = ap.parse_args()
    clips = read_dataset(args.dataset)
    labels = labels_of(clips)
    tc0 = TrainConfig(n_augment=args.augment)
    names = [n for n in [*CANDIDATES, *TRAIN_CHANGES] if not args.only or n in args.only]
    need_pitch = any(TRAIN_CHANGES.get(n, {}).get("gender_pitch") for n in names)
    fs = compute_features(clips, DEFAULT_CONFIG, n_augment=tc0.n_augment, seed=tc0.seed,
                          data_fingerprint=fingerprint(clips, args.dataset),
                          cache_dir=default_cache_dir(), gender_pitch=need_pitch)
    genders = np.asarray([c.gender for c in clips])
    y = np.asarray([labels.index(c.label) for c in clips])
    spk = np.asarray([c.speaker for c in clips])
    val = np.flatnonzero(np.isin(spk, RAVDESS_VAL_ACTORS))
    train = np.flatnonzero(~np.isin(spk, RAVDESS_VAL_ACTORS + RAVDESS_TEST_ACTORS))
    out_path = Path(__file__).parent / "results" / "emotion_select.json"
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in names:
        change = CANDIDATES.get(name, {})
        tc = TrainConfig(epochs=args.epochs, arch={**BASE, **change}, n_augment=args.augment)
        for attr, value in TRAIN_CHANGES.get(name, {}).items():
            setattr(tc, attr, value)
        t = time.perf_counter()
        r = fit(fs, y, labels, train, val, tc, DEFAULT_CONFIG, progress=True)
        best = max(h["val_ua"] for h in r.history)
        # Per-gender UA of the kept (best-validation) epoch, validation actors only.
        val_m = evaluate(clip_probabilities(r.model.model_fn, fs, val, 0), y[val], labels,
                         genders[val])
        pg = {g: m["unweighted_accuracy"] for g, m in val_m["per_gender"].items()}
        if args.augment != TrainConfig().n_augment:
            name = f"{name}_aug{args.augment}"
        results[name] = {"arch": tc.arch, "train": tc.to_dict(), "epochs": tc.epochs,
                         "best_val_ua": best,
                         "best_epoch": r.best_epoch,
                         "val_ua_male": pg.get("male"), "val_ua_female": pg.get("female"),
                         "val_gender_gap": (round(pg["female"] - pg["male"], 4)
                                            if {"male", "female"} <= set(pg) else None), "seconds": round(time.perf_counter() - t),
                         "val_ua_by_epoch": [h["val_ua"] for h in r.history],
                         "params": int(r.model.count_params())}
        print(f"{name}: best val UA {best:.3f} at epoch {r.best_epoch} "
              f"(male {pg.get('male')}, female {pg.get('female')}), "
              f"{results[name]['seconds']} s, {results[name]['params']} params", flush=True)
        out_path.parent.mkdir(exist_ok=True)
        out_path.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
