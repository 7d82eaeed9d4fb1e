"""A voice model version as deployed, on EmoDB, a corpus it never heard: the figures the voice issue asks for.

Every EmoDB clip of the six labels RAVDESS shares (boredom left out) is decoded and classified
exactly as ``manage.py classify_audio`` does (``core.audio.decode``, then the loaded version's
``classify``), clean and through the telephone channel. Printed and written to
``benchmarks/results/voice_deployed.json``:

* distress ROC AUC over every label the model answers with (P(angry) + P(fearful) + P(sad);
  angry/fearful/sad against neutral/happy), clean, telephone, male, female;
* unweighted accuracy on the six shared labels (argmax over those);
* milliseconds per 5 s clip through ``classify`` on one core (run with OPENBLAS_NUM_THREADS=1).

A version that adapts to its deployment (``core.emotion.voice_baseline``) is judged as a new
deployment taking EmoDB's clips as its calls, in a seeded random order: each clip is read against
the baseline of the clips before it (the training data's statistics at first), then learnt from,
with no label; the clean and the telephone clips are two deployments. "after a window" reads every
clip again against the baseline the stream ended with (each clip weighs under 1/300 of it): what
the same callers meet once the deployment has been running.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/voice_deployed.py --model ml_models/<version> [...]
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

RESULTS = ROOT / "benchmarks" / "results" / "voice_deployed.json"
SHARED = ["neutral", "happy", "sad", "angry", "fearful", "disgust"]
DISTRESS, CALM = ("angry", "fearful", "sad"), ("neutral", "happy")


def _auc(truth: list[bool], score: list[float]) -> float | None:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(truth, score)), 4) if 0 < sum(truth) < len(truth) else None


def figures(probabilities: list[dict[str, float]], labels: list[str], genders: list[str]) -> dict:
    from sklearn.metrics import recall_score

    rows = [i for i, label in enumerate(labels) if label in DISTRESS + CALM]
    distress = [sum(probabilities[i].get(lab, 0.0) for lab in DISTRESS) for i in rows]
    truth = [labels[i] in DISTRESS for i in rows]
    out: dict = {"distress_auc": _auc(truth, distress)}
    for gender in ("male", "female"):
        mine = [k for k, i in enumerate(rows) if genders[i] == gender]
        out[f"distress_auc_{gender}"] = _auc([truth[k] for k in mine], [distress[k] for k in mine])
    predicted = [max(SHARED, key=lambda lab: p.get(lab, 0.0)) for p in probabilities]
    out["ua_shared"] = round(float(recall_score(labels, predicted, labels=SHARED, average="macro")), 4)
    return out


def ms_per_5s_clip(classifier) -> float:
    clip = (0.05 * np.random.default_rng(0).standard_normal(5 * 16_000)).astype(np.float32)
    classifier.classify(clip)
    started = time.perf_counter()
    for _ in range(20):
        classifier.classify(clip)
    return round((time.perf_counter() - started) / 20 * 1000, 1)


def _deployed(classifier, calls: list[np.ndarray]) -> tuple[list[dict], list[dict]]:
    """(streamed, after a window): each call read against the calls before it, then all again
    against the baseline they made (an adapting version); the same readings twice otherwise."""
    from core.emotion.voice_baseline import VoiceBaseline

    if not getattr(classifier, "adapts", False):
        readings = [classifier.classify(samples).probabilities for samples in calls]
        return readings, readings
    baseline, streamed, embeddings = None, [], []
    for samples in calls:
        prediction, embedding = classifier.read(samples, baseline=baseline)
        streamed.append(prediction.probabilities)
        embeddings.append(embedding)
        baseline = VoiceBaseline.first(embedding) if baseline is None else baseline.learnt(embedding)
    warm = [classifier.head.probabilities(classifier.head.adapted(e, baseline)) for e in embeddings]
    return streamed, [dict(zip(classifier.labels, map(float, p), strict=True)) for p in warm]


def judge(model_dir: Path, clips) -> dict:
    from core import augment
    from core.audio import decode
    from core.emotion.classifier import clear_cache, load_classifier

    clear_cache()
    classifier = load_classifier(model_dir)
    order = np.random.default_rng(112).permutation(len(clips))  # calls come in no order of speaker or label
    clips = [clips[i] for i in order]
    labels, genders = [c.label for c in clips], [c.gender for c in clips]
    decoded = [decode(str(clip.path)).samples for clip in clips]
    clean, clean_warm = _deployed(classifier, decoded)
    telephone, telephone_warm = _deployed(classifier, [augment.telephone(s) for s in decoded])
    out = {"version": classifier.version, "clips": len(clips), "adapts": bool(getattr(classifier, "adapts", False)),
           "clean": figures(clean, labels, genders), "telephone": figures(telephone, labels, genders),
           "ms_per_5s_clip": ms_per_5s_clip(classifier)}
    if out["adapts"]:
        out["after_a_window"] = {"clean": figures(clean_warm, labels, genders),
                                 "telephone": figures(telephone_warm, labels, genders)}
    c, t = out["clean"], out["telephone"]
    print(f"{out['version']}: EmoDB distress AUC {c['distress_auc']} (male {c['distress_auc_male']}, female "
          f"{c['distress_auc_female']}), telephone {t['distress_auc']}; UA on the shared labels {c['ua_shared']} "
          f"(telephone {t['ua_shared']}); {out['ms_per_5s_clip']} ms per 5 s clip", flush=True)
    if out["adapts"]:
        w = out["after_a_window"]
        print(f"  after a window of these calls: distress AUC {w['clean']['distress_auc']} (male "
              f"{w['clean']['distress_auc_male']}, female {w['clean']['distress_auc_female']}), telephone "
              f"{w['telephone']['distress_auc']}; UA {w['clean']['ua_shared']} (telephone "
              f"{w['telephone']['ua_shared']})", flush=True)
    return out


def main() -> None:
    from core.emotion.datasets import default_emodb_dir, read_manifest

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", type=Path, required=True, help="a version folder (repeatable)")
    args = ap.parse_args()
    emodb = default_emodb_dir()
    if emodb is None:
        raise SystemExit("needs ../shared/data/emodb (or EMODB_DIR)")
    clips = [c for c in read_manifest(emodb / "metadata.csv", label_column="emotion", scheme="emodb")
             if c.label in SHARED]
    results = {"corpus": "emodb", "labels": SHARED, "versions": [judge(m, clips) for m in args.model]}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
