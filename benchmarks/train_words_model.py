"""Train the words model on the call benchmark's TUNING part and judge it on the held-out part.

    .venv/bin/python benchmarks/train_words_model.py [--out ml_models/words-v1] [--version words-v1]

Training data: the tuning scripts' own words and Whisper's transcripts of their telephone renderings
(``benchmarks/callset/data/transcripts.jsonl``, written by benchmarks/call_ranking.py: the
transcriber's typical errors are what the model must read through). Label: emergency or not
(routine requests, non-emergencies, pranks and abuse are not). Silent calls and empty transcripts
are left out. The held-out scripts, spoken by voices the tuning part never uses, are only judged:
ROC AUC of emergencies over non-genuine calls and over routine ones, on their transcripts and on
their written words. Writes the model folder (JSON artefact + metadata with the figures) and
``benchmarks/results/words_model.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.callset.scripts import NON_GENUINE, scripts_of  # noqa: E402

TRANSCRIPTS = REPO / "benchmarks" / "callset" / "data" / "transcripts.jsonl"
LICENCE = ("the project's own call scripts (benchmarks/callset/data) and Whisper tiny.en's transcripts of their "
           "synthetic telephone renderings (espeak-ng, festival); no third-party text")


def rows(split: str) -> list[dict]:
    """(text, kind, script) for a split: the transcripts and each script's written words."""
    out = [json.loads(line) for line in TRANSCRIPTS.read_text().splitlines()]
    incident = {s.id: s.incident_type for s in scripts_of(split)}
    chosen = [{"text": r["transcript"], "kind": r["kind"], "script": r["script_id"], "source": r["condition"],
               "incident": incident.get(r["script_id"])}
              for r in out if r["split"] == split and r["kind"] != "silent" and r["transcript"].strip()]
    chosen += [{"text": s.text, "kind": s.kind, "script": s.id, "source": "written", "incident": s.incident_type}
               for s in scripts_of(split) if s.kind != "silent" and s.text.strip()]
    return chosen


def auc(model, data: list[dict], negatives: tuple[str, ...]) -> float:
    from sklearn.metrics import roc_auc_score

    chosen = [r for r in data if r["kind"] == "emergency" or r["kind"] in negatives]
    return round(float(roc_auc_score([r["kind"] == "emergency" for r in chosen],
                                     [model.predict(r["text"]).p_emergency for r in chosen])), 4)


def incident_accuracy(model, data: list[dict]) -> float:
    emergencies = [r for r in data if r["kind"] == "emergency"]
    right = sum(model.predict(r["text"]).incident_type == r["incident"] for r in emergencies)
    return round(right / max(1, len(emergencies)), 4)


def main() -> None:
    from core.text.words_model import train_words_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "ml_models" / "words-v1")
    ap.add_argument("--version", default="words-v1")
    args = ap.parse_args()
    tuning, heldout = rows("tuning"), rows("heldout")
    model = train_words_model([r["text"] for r in tuning], [r["kind"] == "emergency" for r in tuning],
                              [r["script"] for r in tuning], incident_types=[r["incident"] for r in tuning],
                              metadata={"version": args.version, "licence": LICENCE, "labels": ["emergency", "other"],
                                        "training": "call benchmark, tuning part (transcripts and written words)"})
    heard = [r for r in heldout if r["source"] != "written"]
    written = [r for r in heldout if r["source"] == "written"]
    figures = {
        "emergency_auc_heldout_vs_non_genuine": auc(model, heard, NON_GENUINE),
        "emergency_auc_heldout_vs_routine": auc(model, heard, ("routine",)),
        "emergency_auc_heldout_written_vs_non_genuine": auc(model, written, NON_GENUINE),
        "emergency_auc_heldout_written_vs_routine": auc(model, written, ("routine",)),
        "heldout_examples": len(heldout), "tuning_examples": len(tuning),
        "incident_accuracy_heldout": incident_accuracy(model, heard),
        "incident_accuracy_heldout_written": incident_accuracy(model, written),
    }
    model.metadata["figures"] = figures
    # The weaker of the two held-out figures on heard words sets the trust the triage gives it.
    model.metadata["reliability"] = {"emergency_auc_heldout": min(figures["emergency_auc_heldout_vs_non_genuine"],
                                                                  figures["emergency_auc_heldout_vs_routine"])}
    model.save(args.out)
    for name, value in figures.items():
        print(f"{name:48} {value}")
    print(f"inner CV AUC (tuning, grouped by script) {model.metadata['inner_cv_auc']} at C={model.metadata['C']}")
    from _django import write_results

    write_results("words_model", {"version": args.version, "figures": figures, "C": model.metadata["C"],
                                  "inner_cv_auc": model.metadata["inner_cv_auc"]})


if __name__ == "__main__":
    main()
