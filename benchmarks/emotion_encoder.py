"""The Whisper-encoder emotion head against the shipped CNN, on speakers and a corpus never seen.

* Protocol B on RAVDESS: 6 folds of 4 actors (2 male + 2 female); for each fold the head's
  settings (encoder layers, regularisation) are chosen by 4-fold speaker-grouped CV on the other
  20 actors, the head is trained on them (clean + telephone copies) and tested on the fold,
  clean and through the telephone channel.
* Cross-corpus: a head chosen and trained on all of RAVDESS is tested on EmoDB (10 German actors,
  never seen), on the 6 labels both corpora share (argmax over those), clean and telephone;
  "adapted" rows standardise EmoDB's embeddings by EmoDB's own (unlabelled) mean and spread, as a
  call centre could with a sample of its own calls.
* The shipped CNN (v2) on EmoDB the same way; its protocol B figures are from its own run
  (benchmarks/emotion_cv.py), quoted in docs/models.md.

    .venv/bin/python benchmarks/emotion_encoder.py [--skip-protocol-b] [--skip-cnn]
Prints the figures and writes benchmarks/results/emotion_encoder.json.
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

from core.emotion import SHIPPED_CNN_MODEL  # noqa: E402
from core.emotion.datasets import (  # noqa: E402
    balanced_folds,
    default_emodb_dir,
    default_ravdess_dir,
    fingerprint,
    read_dataset,
    read_manifest,
)
from core.emotion.encoder_model import EncoderHead, select_layers  # noqa: E402
from core.emotion.encoder_training import (  # noqa: E402
    CLEAN,
    TELEPHONE,
    choose_settings,
    dataset_embeddings,
    head_metrics,
    train_head,
)
from core.emotion.metrics import evaluate  # noqa: E402
from core.emotion.whisper_encoder import load_encoder  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "emotion_encoder.json"
SHARED = ["neutral", "happy", "sad", "angry", "fearful", "disgust"]  # RAVDESS labels EmoDB has too


def summary(m: dict) -> dict:
    g = m.get("per_gender", {})
    return {"ua": m["unweighted_accuracy"], "wa": m["weighted_accuracy"], "distress_auc": m.get("distress_auc"),
            "male": g.get("male", {}).get("unweighted_accuracy"),
            "female": g.get("female", {}).get("unweighted_accuracy")}


def mean_std(rows: list[dict], key: str) -> dict:
    values = [r[key] for r in rows if r.get(key) is not None]
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)}


def protocol_b(emb, y, speakers, genders, labels, clips) -> dict:
    folds = balanced_folds(clips, 6)
    rows = []
    for i, test_actors in enumerate(folds):
        test = np.flatnonzero(np.isin(speakers, test_actors))
        train = np.flatnonzero(~np.isin(speakers, test_actors))
        layers, c, _ = choose_settings(emb, y, speakers, train, labels)
        head = train_head(emb, y, train, labels, layers, c)
        clean = summary(head_metrics(head, emb, y, test, labels, genders, CLEAN))
        tel = summary(head_metrics(head, emb, y, test, labels, genders, TELEPHONE))
        row = {"fold": i, "test_actors": test_actors, "layers": list(layers), "c": c, **clean,
               "telephone_ua": tel["ua"]}
        rows.append(row)
        print(f"B fold {i} {test_actors}: layers {layers} C {c:g}  UA {clean['ua']:.3f}  AUC "
              f"{clean['distress_auc']:.3f}  tel {tel['ua']:.3f}  m/f {clean['male']:.3f}/{clean['female']:.3f}",
              flush=True)
    out = {k: mean_std(rows, k) for k in ("ua", "wa", "distress_auc", "telephone_ua", "male", "female")}
    out["telephone_drop"] = round(out["ua"]["mean"] - out["telephone_ua"]["mean"], 4)
    out["gender_gap"] = round(out["female"]["mean"] - out["male"]["mean"], 4)
    out["folds"] = rows
    return out


def adapted(head: EncoderHead, emb: np.ndarray) -> np.ndarray:
    """Embeddings moved so that their own mean and spread match the training corpus's."""
    x = select_layers(emb, head.layers)
    return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6) * head.scale + head.mean


def cross_corpus(emb_r, y_r, speakers_r, labels, emb_e, y_e, genders_e) -> dict:
    everyone = np.arange(len(y_r))
    layers, c, scores = choose_settings(emb_r, y_r, speakers_r, everyone, labels)
    head = train_head(emb_r, y_r, everyone, labels, layers, c)
    ids = np.arange(len(y_e))
    out = {"layers": list(layers), "c": c, "inner_scores": scores}
    for name, variant in (("clean", CLEAN), ("telephone", TELEPHONE)):
        out[name] = summary(head_metrics(head, emb_e, y_e, ids, labels, genders_e, variant, only_labels=SHARED))
        probs = head.probabilities(adapted(head, emb_e[:, variant])) * _shared_mask(labels)
        probs = probs / probs.sum(axis=1, keepdims=True)
        out[f"{name}_adapted"] = summary(evaluate(probs, y_e, labels, genders_e))
    return out


def _shared_mask(labels: list[str]) -> np.ndarray:
    keep = np.zeros(len(labels))
    keep[[labels.index(lab) for lab in SHARED]] = 1.0
    return keep


def cnn_on_emodb(emodb, labels) -> dict:
    from core.audio import load
    from core.augment import telephone
    from core.emotion.classifier import load_classifier

    clf = load_classifier(ROOT / "ml_models" / SHIPPED_CNN_MODEL)
    y = np.array([labels.index(c.label) for c in emodb])
    genders = [c.gender for c in emodb]
    out = {}
    for name, transform in (("clean", lambda s: s), ("telephone", telephone)):
        probs = np.array([[p.probabilities[lab] for lab in labels]
                          for p in clf.classify_batch([transform(load(c.path)) for c in emodb])])
        probs = probs * _shared_mask(labels)
        probs = probs / probs.sum(axis=1, keepdims=True)
        out[name] = summary(evaluate(probs, y, labels, genders))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-protocol-b", action="store_true")
    ap.add_argument("--skip-cnn", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()
    encoder = load_encoder()
    ravdess_dir, emodb_dir = default_ravdess_dir(), default_emodb_dir()
    if ravdess_dir is None or emodb_dir is None:
        raise SystemExit("needs ../shared/data/ravdess and ../shared/data/emodb (or RAVDESS_DIR, EMODB_DIR)")
    ravdess = read_dataset(ravdess_dir)
    labels = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    emodb = [c for c in read_manifest(emodb_dir / "metadata.csv", label_column="emotion", scheme="emodb")
             if c.label in SHARED]
    emb_r = dataset_embeddings(ravdess, encoder, fingerprint=fingerprint(ravdess, ravdess_dir))
    emb_e = dataset_embeddings(emodb, encoder, fingerprint=fingerprint(emodb, emodb_dir))
    y_r = np.array([labels.index(c.label) for c in ravdess])
    y_e = np.array([labels.index(c.label) for c in emodb])
    speakers_r = np.array([c.speaker for c in ravdess])
    results: dict = {"encoder_model_sha256": encoder.model_checksum, "emodb_clips": len(emodb),
                     "emodb_labels": SHARED}
    if not args.skip_protocol_b:
        results["protocol_b"] = protocol_b(emb_r, y_r, speakers_r, [c.gender for c in ravdess], labels, ravdess)
        b = results["protocol_b"]
        print(f"B: UA {b['ua']['mean']:.3f} ± {b['ua']['std']:.3f}  AUC {b['distress_auc']['mean']:.3f}  "
              f"tel drop {b['telephone_drop'] * 100:.1f}  m/f {b['male']['mean']:.3f}/{b['female']['mean']:.3f}")
    results["cross_corpus"] = cross_corpus(emb_r, y_r, speakers_r, labels, emb_e, y_e, [c.gender for c in emodb])
    for name in ("clean", "telephone", "clean_adapted", "telephone_adapted"):
        r = results["cross_corpus"][name]
        print(f"EmoDB {name}: UA {r['ua']:.3f}  AUC {r['distress_auc']:.3f}  m/f {r['male']:.3f}/{r['female']:.3f}")
    if not args.skip_cnn:
        results["cnn_emodb"] = cnn_on_emodb(emodb, labels)
        for name, r in results["cnn_emodb"].items():
            print(f"CNN v2 EmoDB {name}: UA {r['ua']:.3f}  AUC {r['distress_auc']:.3f}")
    results["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
