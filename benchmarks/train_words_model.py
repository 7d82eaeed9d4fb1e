"""Train the words model on the call benchmark's TUNING part and judge it on the held-out part.

    .venv/bin/python benchmarks/train_words_model.py [--out ml_models/words-v1] [--version words-v1]
    .venv/bin/python benchmarks/train_words_model.py --export-data ml_models/words-data

``--export-data`` writes the two parts as the portal's own retraining reads them (learning/words_training.py):
``tuning.jsonl`` (the base every new version is trained on, beside the audited calls) and
``heldout.jsonl`` (only ever judged on); one example per line: text, emergency, kind, group, incident, source.

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

from benchmarks.callset.scripts import scripts_of  # noqa: E402

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


def export(folder: Path, *, tuning: list[dict], heldout: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (("tuning", tuning), ("heldout", heldout)):
        lines = [json.dumps({"text": r["text"], "emergency": r["kind"] == "emergency", "kind": r["kind"],
                             "group": r["script"], "incident": r["incident"], "source": r["source"]},
                            sort_keys=True) for r in data]
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
        print(f"{folder / name}.jsonl: {len(lines)} examples")
    (folder / "LICENCE.txt").write_text(f"Words model training and judging data: {LICENCE}.\n"
                                        "Written by benchmarks/train_words_model.py --export-data.\n")


def main() -> None:
    from core.text.words_model import heldout_figures, reliability_of, train_words_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "ml_models" / "words-v1")
    ap.add_argument("--version", default="words-v1")
    ap.add_argument("--export-data", type=Path, default=None, help="write tuning.jsonl and heldout.jsonl here and stop")
    args = ap.parse_args()
    tuning, heldout = rows("tuning"), rows("heldout")
    if args.export_data:
        export(args.export_data, tuning=tuning, heldout=heldout)
        return
    model = train_words_model([r["text"] for r in tuning], [r["kind"] == "emergency" for r in tuning],
                              [r["script"] for r in tuning], incident_types=[r["incident"] for r in tuning],
                              metadata={"version": args.version, "licence": LICENCE, "labels": ["emergency", "other"],
                                        "training": "call benchmark, tuning part (transcripts and written words)"})
    figures = {**heldout_figures(model, heldout), "tuning_examples": len(tuning)}
    model.metadata["figures"] = figures
    # The weaker of the two held-out figures on heard words sets the trust the triage gives it.
    model.metadata["reliability"] = reliability_of(figures)
    model.save(args.out)
    for name, value in figures.items():
        print(f"{name:48} {value}")
    print(f"inner CV AUC (tuning, grouped by script) {model.metadata['inner_cv_auc']} at C={model.metadata['C']}")
    from _django import write_results

    write_results("words_model", {"version": args.version, "figures": figures, "C": model.metadata["C"],
                                  "inner_cv_auc": model.metadata["inner_cv_auc"]})


if __name__ == "__main__":
    main()
