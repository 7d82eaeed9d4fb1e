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
    compute_features,
    default_cache_dir,
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
TRAIN_CHANGES = {"mixup": {"mixup": 0.4}, "epochs50": {"epochs": 50}}


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
    fs = compute_features(clips, DEFAULT_CONFIG, n_augment=tc0.n_augment, seed=tc0.seed,
                          data_fingerprint=fingerprint(clips, args.dataset),
                          cache_dir=default_cache_dir())
    y = np.asarray([labels.index(c.label) for c in clips])
    spk = np.asarray([c.speaker for c in clips])
    val = np.flatnonzero(np.isin(spk, RAVDESS_VAL_ACTORS))
    train = np.flatnonzero(~np.isin(spk, RAVDESS_VAL_ACTORS + RAVDESS_TEST_ACTORS))
    out_path = Path(__file__).parent / "results" / "emotion_select.json"
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    for name in [*CANDIDATES, *TRAIN_CHANGES]:
        if args.only and name not in args.only:
            continue
        change = CANDIDATES.get(name, {})
        tc = TrainConfig(epochs=args.epochs, arch={**BASE, **change}, n_augment=args.augment)
        for attr, value in TRAIN_CHANGES.get(name, {}).items():
            setattr(tc, attr, value)
        t = time.perf_counter()
        r = fit(fs, y, labels, train, val, tc, DEFAULT_CONFIG, progress=True)
        best = max(h["val_ua"] for h in r.history)
        if args.augment != TrainConfig().n_augment:
            name = f"{name}_aug{args.augment}"
        results[name] = {"arch": tc.arch, "train": tc.to_dict(), "epochs": tc.epochs,
                         "best_val_ua": best,
                         "best_epoch": r.best_epoch, "seconds": round(time.perf_counter() - t),
                         "val_ua_by_epoch": [h["val_ua"] for h in r.history],
                         "params": int(r.model.count_params())}
        print(f"{name}: best val UA {best:.3f} at epoch {r.best_epoch}, "
              f"{results[name]['seconds']} s, {results[name]['params']} params", flush=True)
        out_path.parent.mkdir(exist_ok=True)
        out_path.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
