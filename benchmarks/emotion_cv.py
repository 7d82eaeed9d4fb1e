"""Held-out-speaker figures for the emotion model, two protocols.

(A) the shipped model on its fixed test actors (read from its metadata), classified through
    the inference path (EmotionClassifier on decoded files), clean and telephone channel;
(B) 6-fold cross-validation by actor (4 actors per fold, 2 male + 2 female): for each fold a
    model with the shipped model's settings is trained on the other 20 actors for the shipped
    model's full epoch schedule, keeping the last epoch (no early stopping, so no fold's test
    actors steer training), and tested on the fold; mean +- std over folds. B is the headline.

    .venv/bin/python benchmarks/emotion_cv.py [--protocol A|B|AB] [--model-dir DIR]
        [--dataset DIR] [--folds 0,1,..] [--epochs N] [--tag NAME]
A candidate config can be cross-validated before shipping: --model-dir pointing at a folder
with only a metadata.json (the shipped one with its "training" settings changed), --tag NAME.
Prints the figures and writes benchmarks/results/emotion_cv.json.
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

from analysis import audio, augment  # noqa: E402
from analysis.datasets import (  # noqa: E402
    balanced_folds,
    default_ravdess_dir,
    fingerprint,
    read_dataset,
)
from analysis.features import FeatureConfig  # noqa: E402
from analysis.training import (  # noqa: E402
    VARIANT_CLEAN,
    VARIANT_TELEPHONE,
    TrainConfig,
    clip_probabilities,
    compute_features,
    default_cache_dir,
    evaluate,
    fit,
    format_report,
)

DEFAULT_MODEL = ROOT / "ml_models" / "emotion-ravdess-v1"


def protocol_a(model_dir: Path, dataset: Path) -> dict:
    from analysis.emotion import load_classifier

    clf = load_classifier(model_dir)
    test = set(clf.metadata["test_actors"])
    clips = [c for c in read_dataset(dataset) if c.speaker in test]
    y = np.array([clf.labels.index(c.label) for c in clips])
    genders = [c.gender for c in clips]
    out = {"model_version": clf.version, "test_actors": sorted(test)}
    for name, transform in (("clean", None), ("telephone", augment.telephone)):
        probs = []
        for c in clips:
            x = audio.decode(c.path).samples
            if transform:
                x = transform(x)
            probs.append(list(clf.classify(x).probabilities.values()))
        out[name] = evaluate(np.array(probs), y, clf.labels, genders)
        print(format_report(f"A: {clf.version} on test actors {sorted(test)} [{name}]",
                            out[name]))
    out["telephone_ua_drop"] = round(out["clean"]["unweighted_accuracy"]
                                     - out["telephone"]["unweighted_accuracy"], 4)
    print(f"A: telephone UA drop {out['telephone_ua_drop'] * 100:.1f} points")
    return out


def _mean_std(values):
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4),
            "values": [round(float(v), 4) for v in values]}


def protocol_b(model_dir: Path, dataset: Path, folds_wanted, epochs) -> dict:
    meta = json.loads((model_dir / "metadata.json").read_text())
    t = meta["training"]
    tc = TrainConfig(epochs=epochs or t["epochs"], mixup=t.get("mixup", 0.0), batch_size=t["batch_size"],
                     learning_rate=t["learning_rate"], seed=t["seed"], n_augment=t["n_augment"],
                     label_smoothing=t["label_smoothing"], arch=t["arch"],
                     gender_pitch=bool(t.get("gender_pitch", False)))
    config = FeatureConfig.from_dict(meta["feature_config"])
    clips = read_dataset(dataset)
    labels = meta["labels"]
    fs = compute_features(clips, config, n_augment=tc.n_augment, seed=tc.seed,
                          data_fingerprint=fingerprint(clips, dataset),
                          cache_dir=default_cache_dir(), gender_pitch=tc.gender_pitch)
    y = np.array([labels.index(c.label) for c in clips])
    spk = np.array([c.speaker for c in clips])
    genders = np.array([c.gender for c in clips])
    folds = balanced_folds(clips, 6)
    per_fold, pooled = [], {"clean": [], "telephone": [], "y": [], "g": []}
    for k, fold in enumerate(folds):
        if folds_wanted and k not in folds_wanted:
            continue
        test_ids = np.flatnonzero(np.isin(spk, fold))
        train_ids = np.flatnonzero(~np.isin(spk, fold))
        start = time.perf_counter()
        r = fit(fs, y, labels, train_ids, None, tc, config, progress=True)
        row = {"fold": k, "test_actors": fold, "train_seconds": round(time.perf_counter() - start)}
        for name, variant in (("clean", VARIANT_CLEAN), ("telephone", VARIANT_TELEPHONE)):
            probs = clip_probabilities(r.model.model_fn, fs, test_ids, variant)
            row[name] = evaluate(probs, y[test_ids], labels, genders[test_ids])
            pooled[name].append(probs)
        pooled["y"].append(y[test_ids])
        pooled["g"].append(genders[test_ids])
        c, tel = row["clean"], row["telephone"]
        print(f"B fold {k} actors {fold}: UA {c['unweighted_accuracy']:.3f} "
              f"WA {c['weighted_accuracy']:.3f} AUC {c.get('distress_auc', float('nan')):.3f} "
              f"tel UA {tel['unweighted_accuracy']:.3f} "
              f"male UA {c['per_gender']['male']['unweighted_accuracy']:.3f} "
              f"female UA {c['per_gender']['female']['unweighted_accuracy']:.3f} "
              f"({row['train_seconds']} s)", flush=True)
        per_fold.append(row)

    def agg(fn):
        return _mean_std([fn(r) for r in per_fold])

    summary = {
        "epochs": tc.epochs,
        "folds": len(per_fold),
        "unweighted_accuracy": agg(lambda r: r["clean"]["unweighted_accuracy"]),
        "weighted_accuracy": agg(lambda r: r["clean"]["weighted_accuracy"]),
        "distress_auc": agg(lambda r: r["clean"]["distress_auc"]),
        "telephone_unweighted_accuracy": agg(lambda r: r["telephone"]["unweighted_accuracy"]),
        "telephone_ua_drop": agg(lambda r: r["clean"]["unweighted_accuracy"]
                                 - r["telephone"]["unweighted_accuracy"]),
        "male_ua": agg(lambda r: r["clean"]["per_gender"]["male"]["unweighted_accuracy"]),
        "female_ua": agg(lambda r: r["clean"]["per_gender"]["female"]["unweighted_accuracy"]),
        "gender_gap_ua": agg(lambda r: r["clean"]["per_gender"]["female"]["unweighted_accuracy"]
                             - r["clean"]["per_gender"]["male"]["unweighted_accuracy"]),
        "gender_gap_abs_ua": agg(lambda r: abs(
            r["clean"]["per_gender"]["female"]["unweighted_accuracy"]
            - r["clean"]["per_gender"]["male"]["unweighted_accuracy"])),
        "train_seconds_per_fold": agg(lambda r: r["train_seconds"]),
    }
    pooled_clean = evaluate(np.concatenate(pooled["clean"]), np.concatenate(pooled["y"]), labels,
                            np.concatenate(pooled["g"]))
    print(format_report("B: all folds pooled [clean]", pooled_clean))
    for key, v in summary.items():
        if isinstance(v, dict):
            print(f"B {key}: {v['mean']:.4f} +- {v['std']:.4f}")
    return {"summary": summary, "pooled_clean": pooled_clean, "per_fold": per_fold,
            "model_dir": str(model_dir), "training": tc.to_dict()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", default="AB")
    ap.add_argument("--model-dir", default=str(DEFAULT_MODEL))
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--folds", default="")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--tag", default="",
                    help="store protocol B under 'B_<tag>' (a candidate config, not shipped)")
    args = ap.parse_args()
    model_dir, dataset = Path(args.model_dir), Path(args.dataset)
    out_path = ROOT / "benchmarks" / "results" / "emotion_cv.json"
    results = json.loads(out_path.read_text()) if out_path.exists() else {}
    if "A" in args.protocol:
        results["A"] = protocol_a(model_dir, dataset)
    if "B" in args.protocol:
        folds = {int(f) for f in args.folds.split(",") if f}
        results[f"B_{args.tag}" if args.tag else "B"] = protocol_b(model_dir, dataset, folds,
                                                                   args.epochs)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, indent=1))
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
