"""Train the words model on the call benchmark's TUNING part and judge it on the held-out part.

    .venv/bin/python benchmarks/train_words_model.py [--out ml_models/words-v2] [--version words-v2]
    .venv/bin/python benchmarks/train_words_model.py --export-data ml_models/words-data
    .venv/bin/python benchmarks/train_words_model.py --transcripts-from /tmp/call_bench/records/calls.jsonl

``--export-data`` writes the two parts as the portal's own retraining reads them (learning/words_training.py):
``tuning.jsonl`` (the base every new version is trained on, beside the audited calls) and
``heldout.jsonl`` (only ever judged on); one example per line: text, emergency, kind, group, incident, source.

Training data: the tuning scripts' own words and Whisper's transcripts of their telephone renderings
(``benchmarks/callset/data/transcripts.jsonl``, rewritten from a call_ranking.py run by
``--transcripts-from``: the transcriber's typical errors are what the model must read through); the
incident head also learns the lexicon's incident phrases (core.text.lexicon.incident_phrases). Label: emergency or not
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
LICENCE = ("the project's own call scripts (benchmarks/callset/data), Whisper base's transcripts of their "
           "synthetic telephone renderings (espeak-ng, festival) and the project's own lexicons; no third-party text")


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


def transcripts_from(records: Path) -> int:
    """Rewrite TRANSCRIPTS from a call_ranking.py records file: each scripted call's transcript as the
    pipeline stored it (the human clips are not the benchmark's scripts and stay out)."""
    keep = ("script_id", "split", "kind", "condition", "voice_id", "transcript", "word_confidence")
    lines = []
    for line in records.read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        if record.get("script_id") and record.get("transcript") is not None:
            out = {key: record[key] for key in keep}
            out["voice"] = out.pop("voice_id")
            lines.append(json.dumps(out, ensure_ascii=False))
    TRANSCRIPTS.write_text("\n".join(lines) + "\n")
    return len(lines)


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
    from core.text.lexicon import incident_phrases, matcher_for
    from core.text.words_model import heldout_figures, reliability_of, train_words_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "ml_models" / "words-v2")
    ap.add_argument("--version", default="words-v2")
    ap.add_argument("--export-data", type=Path, default=None, help="write tuning.jsonl and heldout.jsonl here and stop")
    ap.add_argument("--transcripts-from", type=Path, default=None,
                    help="rewrite the stored transcripts from a call_ranking.py records file and stop")
    args = ap.parse_args()
    if args.transcripts_from:
        print(f"{TRANSCRIPTS}: {transcripts_from(args.transcripts_from)} transcripts")
        return
    tuning, heldout = rows("tuning"), rows("heldout")
    if args.export_data:
        export(args.export_data, tuning=tuning, heldout=heldout)
        return
    model = train_words_model([r["text"] for r in tuning], [r["kind"] == "emergency" for r in tuning],
                              [r["script"] for r in tuning], incident_types=[r["incident"] for r in tuning],
                              incident_phrases=incident_phrases(matcher_for(None).lexicon),
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
