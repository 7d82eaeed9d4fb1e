"""Held-out-speaker figures for the emotion model, two protocols.

(A) the shipped model on its fixed test actors (read from its metadata), classified through
    the inference path (EmotionClassifier on decoded files), clean and telephone channel;
(B) 6-fold cross-validation by actor (4 actors per fold, 2 male + 2 female): for each fold a
    model with the shipped model's settings is trained on the other 20 actors for the shipped
    model's full epoch schedule, keeping the last epoch (no early stopping, so no fold's test
    actors steer training), and tested on the fold; mean +- std over folds. B is the headline.

    .venv/bin/python benchmarks/emotion_cv.py [--protocol A|B|AB] [--model-dir DIR]
        [--dataset DIR] [--folds 0,1,..] [--epochs N] [--tag NAME] [--threads N]
        [--oracle-speaker-norm]
A candidate config can be cross-validated before shipping: --model-dir pointing at a folder
with only a metadata.json (the shipped one with its "training" settings changed), --tag NAME.
--oracle-speaker-norm (a diagnostic, stored as B_<tag>-oracle-spknorm) z-scores every actor's
features by that actor's own statistics over all their clips, test actors included; see
speaker_normalised().
Prints the figures and writes benchmarks/results/emotion_cv.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core import audio, augment  # noqa: E402
from core.emotion import SHIPPED_CNN_MODEL  # noqa: E402
from core.emotion.datasets import (  # noqa: E402
    Clip,
    balanced_folds,
    default_ravdess_dir,
    fingerprint,
    read_dataset,
)
from core.emotion.feature_sets import (  # noqa: E402
    VARIANT_CLEAN,
    VARIANT_TELEPHONE,
    FeatureSet,
    compute_features,
    default_cache_dir,
)
from core.emotion.features import FeatureConfig  # noqa: E402
from core.emotion.metrics import clip_probabilities, evaluate, format_report  # noqa: E402
from core.emotion.network import fit  # noqa: E402
from core.emotion.train_config import TrainConfig  # noqa: E402

DEFAULT_MODEL = ROOT / "ml_models" / SHIPPED_CNN_MODEL
RESULTS = ROOT / "benchmarks" / "results" / "emotion_cv.json"


def protocol_a(model_dir: Path, dataset: Path) -> dict:
    from core.emotion.classifier import load_classifier

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


def mean_std(values) -> dict:
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4),
            "values": [round(float(v), 4) for v in values]}


def train_config_of(meta: dict, epochs: int | None, threads: int) -> TrainConfig:
    """The training settings a model version was made with (its metadata's "training")."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    given = {k: v for k, v in meta["training"].items() if k in known}
    return TrainConfig(**{**given, "threads": threads, **({"epochs": epochs} if epochs else {})})


def dataset_features(dataset: Path, config: FeatureConfig,
                     tc: TrainConfig) -> tuple[list[Clip], FeatureSet]:
    """Every clip of the dataset and its feature windows (clean, telephone, augmented), as the
    training settings `tc` make them (from the on-disk cache when it has them)."""
    clips = read_dataset(dataset)
    fs = compute_features(clips, config, n_augment=tc.n_augment, seed=tc.seed,
                          data_fingerprint=fingerprint(clips, dataset),
                          cache_dir=default_cache_dir())
    return clips, fs


def speaker_normalised(fs: FeatureSet, speakers: np.ndarray) -> FeatureSet:
    """ORACLE, for diagnosis only: each (actor, variant) group of windows z-scored per feature
    by the group's own mean and std over all its frames, the test actors' groups included.

    It needs every clip of a speaker, all emotions, so no product can do it (a 112 call is
    one clip of one caller); it shows how much of a gap speaker offsets (voice register,
    vocal tract, recording level) could explain at most."""
    windows = np.empty_like(fs.windows)
    owner = speakers[fs.clip_index]
    for spk in np.unique(owner):
        for v in np.unique(fs.variant):
            idx = np.flatnonzero((owner == spk) & (fs.variant == v))
            if not len(idx):
                continue
            w = fs.windows[idx].astype(np.float32)
            mean, std = w.mean(axis=(0, 1)), w.std(axis=(0, 1))
            windows[idx] = ((w - mean) / np.maximum(std, 1e-3)).astype(fs.windows.dtype)
    return FeatureSet(windows, fs.clip_index, fs.variant, fs.clips)


def protocol_b(model_dir: Path, dataset: Path, folds_wanted, epochs, threads: int,
               stored: dict | None, oracle_speaker_norm: bool = False) -> dict:
    """Train and test the folds asked for; merge them with `stored` (the same settings' folds
    from an earlier or a parallel run) and summarise all folds there are."""
    meta = json.loads((model_dir / "metadata.json").read_text())
    tc = train_config_of(meta, epochs, threads)
    config = FeatureConfig.from_dict(meta["feature_config"])
    clips, fs = dataset_features(dataset, config, tc)
    labels = meta["labels"]
    y = np.array([labels.index(c.label) for c in clips])
    spk = np.array([c.speaker for c in clips])
    genders = np.array([c.gender for c in clips])
    if oracle_speaker_norm:
        fs = speaker_normalised(fs, spk)
    if stored and stored.get("training") != tc.to_dict():
        stored = None  # other settings: start afresh
    per_fold = {r["fold"]: r for r in (stored or {}).get("per_fold", [])}
    for k, fold in enumerate(balanced_folds(clips, 6)):
        if folds_wanted and k not in folds_wanted:
            continue
        test_ids = np.flatnonzero(np.isin(spk, fold))
        train_ids = np.flatnonzero(~np.isin(spk, fold))
        start = time.perf_counter()
        r = fit(fs, y, labels, train_ids, None, tc, config, progress=True)
        row = {"fold": k, "test_actors": fold, "train_seconds": round(time.perf_counter() - start),
               "y": y[test_ids].tolist(), "genders": genders[test_ids].tolist(),
               "speakers": spk[test_ids].tolist()}
        for name, variant in (("clean", VARIANT_CLEAN), ("telephone", VARIANT_TELEPHONE)):
            probs = clip_probabilities(r.model.model_fn, fs, test_ids, variant)
            row[name] = evaluate(probs, y[test_ids], labels, genders[test_ids])
            row[f"{name}_probabilities"] = np.round(probs, 5).tolist()
        c, tel = row["clean"], row["telephone"]
        print(f"B fold {k} actors {fold}: UA {c['unweighted_accuracy']:.3f} "
              f"WA {c['weighted_accuracy']:.3f} AUC {c.get('distress_auc', float('nan')):.3f} "
              f"tel UA {tel['unweighted_accuracy']:.3f} "
              f"male UA {c['per_gender']['male']['unweighted_accuracy']:.3f} "
              f"female UA {c['per_gender']['female']['unweighted_accuracy']:.3f} "
              f"({row['train_seconds']} s)", flush=True)
        per_fold[k] = row
    rows = [per_fold[k] for k in sorted(per_fold)]
    return {**summarise_b(rows, labels, tc.epochs), "per_fold": rows,
            "model_dir": str(model_dir), "training": tc.to_dict()}


def summarise_b(rows: list[dict], labels: list[str], epochs: int) -> dict:
    def agg(fn):
        return mean_std([fn(r) for r in rows])

    def ua(r, variant="clean", gender=None):
        m = r[variant]["per_gender"][gender] if gender else r[variant]
        return m["unweighted_accuracy"]

    summary = {
        "epochs": epochs,
        "folds": len(rows),
        "unweighted_accuracy": agg(ua),
        "weighted_accuracy": agg(lambda r: r["clean"]["weighted_accuracy"]),
        "distress_auc": agg(lambda r: r["clean"]["distress_auc"]),
        "telephone_unweighted_accuracy": agg(lambda r: ua(r, "telephone")),
        "telephone_ua_drop": agg(lambda r: ua(r) - ua(r, "telephone")),
        "male_ua": agg(lambda r: ua(r, gender="male")),
        "female_ua": agg(lambda r: ua(r, gender="female")),
        "gender_gap_ua": agg(lambda r: ua(r, gender="female") - ua(r, gender="male")),
        "gender_gap_abs_ua": agg(lambda r: abs(ua(r, gender="female") - ua(r, gender="male"))),
        "train_seconds_per_fold": agg(lambda r: r["train_seconds"]),
    }
    pooled_clean = evaluate(np.concatenate([r["clean_probabilities"] for r in rows]),
                            np.concatenate([r["y"] for r in rows]), labels,
                            np.concatenate([r["genders"] for r in rows]))
    print(format_report(f"B: {len(rows)} folds pooled [clean]", pooled_clean))
    for key, v in summary.items():
        if isinstance(v, dict):
            print(f"B {key}: {v['mean']:.4f} +- {v['std']:.4f}")
    per_actor = actor_accuracy(rows)
    if per_actor:
        summary["per_actor_ua"] = per_actor
        print("B per actor UA (m/f): " + "  ".join(
            f"{a}{g[0]} {ua:.2f}" for a, (g, ua) in per_actor.items()))
    return {"summary": summary, "pooled_clean": pooled_clean}


def actor_accuracy(rows: list[dict]) -> dict[str, tuple[str, float]]:
    """Unweighted accuracy of each test actor (from the folds' stored predictions)."""
    from sklearn.metrics import recall_score

    out = {}
    for r in rows:
        if "speakers" not in r:
            continue
        spk, y = np.asarray(r["speakers"]), np.asarray(r["y"])
        pred = np.asarray(r["clean_probabilities"]).argmax(axis=1)
        for actor in sorted(set(spk.tolist())):
            m = spk == actor
            out[actor] = (r["genders"][int(np.flatnonzero(m)[0])],
                          round(float(recall_score(y[m], pred[m], average="macro")), 4))
    return dict(sorted(out.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", default="AB")
    ap.add_argument("--model-dir", default=str(DEFAULT_MODEL))
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--folds", default="")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--tag", default="",
                    help="store protocol B under 'B_<tag>' (a candidate config, not shipped)")
    ap.add_argument("--oracle-speaker-norm", action="store_true",
                    help="diagnostic: z-score each actor by their own statistics (not deployable)")
    ap.add_argument("--threads", type=int, default=TrainConfig().threads,
                    help="TensorFlow threads; two processes with --threads 1 and disjoint "
                         "--folds use 2 cores better than one with 2 (their folds merge)")
    args = ap.parse_args()
    model_dir, dataset = Path(args.model_dir), Path(args.dataset)
    out_path = RESULTS
    tag = "-".join(filter(None, [args.tag, "oracle-spknorm" if args.oracle_speaker_norm else ""]))
    key = f"B_{tag}" if tag else "B"
    if "A" in args.protocol:
        update(out_path, "A", protocol_a(model_dir, dataset))
    if "B" in args.protocol:
        folds = {int(f) for f in args.folds.split(",") if f}
        stored = load(out_path).get(key)
        result = protocol_b(model_dir, dataset, folds, args.epochs, args.threads, stored,
                            args.oracle_speaker_norm)
        # Folds finished meanwhile by a parallel run with the same settings are merged too.
        latest = load(out_path).get(key)
        if latest and latest.get("training") == result["training"]:
            mine = {r["fold"] for r in result["per_fold"]}
            extra = [r for r in latest["per_fold"] if r["fold"] not in mine]
            if extra:
                rows = sorted(result["per_fold"] + extra, key=lambda r: r["fold"])
                labels = json.loads((model_dir / "metadata.json").read_text())["labels"]
                result = {**result, **summarise_b(rows, labels, result["training"]["epochs"]),
                          "per_fold": rows}
        update(out_path, key, result)
    print(f"wrote {out_path}")


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def update(path: Path, key: str, value: dict) -> None:
    results = load(path)
    results[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
