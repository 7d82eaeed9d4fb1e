"""Does the acoustic distress component rank genuine distress above the rest, on unseen actors?

    .venv/bin/python benchmarks/ranking_auc.py [--model ml_models/<version>]
Clips of the model's held-out test actors (from its metadata): angry/fearful/sad count as genuine
distress, happy/calm/neutral as not (disgust and surprised are left out). The score is the triage
'distress' component (default label mapping). Prints ROC AUC; writes results/ranking_auc.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.emotion import SHIPPED_CNN_MODEL  # noqa: E402

DISTRESS = {"angry", "fearful", "sad"}
NOT_DISTRESS = {"happy", "calm", "neutral"}


def main() -> None:
    from sklearn.metrics import roc_auc_score

    from benchmarks._django import write_results
    from core import audio
    from core.emotion.classifier import load_classifier
    from core.triage.evidence import TriageEvidence
    from core.triage.policy import triage

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(REPO / "ml_models" / SHIPPED_CNN_MODEL))
    parser.add_argument("--dataset", default=os.environ.get("RAVDESS_DIR", str(REPO.parent / "shared/data/ravdess")))
    args = parser.parse_args()
    meta = json.loads((Path(args.model) / "metadata.json").read_text())
    test_actors = {int(a) for a in meta["test_actors"]}
    classifier = load_classifier(args.model)
    rows = [r for r in csv.DictReader(open(Path(args.dataset) / "metadata.csv"))
            if int(r["actor"]) in test_actors and r["emotion"] in DISTRESS | NOT_DISTRESS]
    predictions = classifier.classify_batch([audio.load(Path(args.dataset) / r["path"]) for r in rows])
    truth, scores = [], []
    for row, prediction in zip(rows, predictions, strict=True):
        evidence = TriageEvidence(emotion_probabilities=prediction.probabilities)
        distress = next(c for c in triage(evidence).components if c.name == "distress")
        truth.append(row["emotion"] in DISTRESS)
        scores.append(distress.value)
    auc = roc_auc_score(truth, scores)
    print(f"{len(rows)} clips of held-out actors {sorted(test_actors)}; model {classifier.version}")
    print(f"ROC AUC of the acoustic distress component (angry/fearful/sad vs happy/calm/neutral): {auc:.3f}")
    write_results("ranking_auc", {"model": classifier.version, "test_actors": sorted(test_actors),
                                  "clips": len(rows), "roc_auc": round(auc, 4)})


if __name__ == "__main__":
    main()
