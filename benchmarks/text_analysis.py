"""Precision and recall of the text analysis on the utterance table, as typed and as heard.

    .venv/bin/python benchmarks/text_analysis.py [--table tests/fixtures/utterances.csv]
        [--models-dir DIR] [--telephone]

1. "plain": every row of the table (English, Hinglish, Hindi in Devanagari) analysed as text.
2. "recognised": the English and Hinglish rows spoken by espeak-ng (--voice, default en-us;
   --rate, default 150 words a minute), decoded to 16 kHz, transcribed by the best installed engine for English (the bundled
   PocketSphinx en-US model unless a Vosk model is installed), then analysed from the transcript
   with its word confidences. Devanagari rows need a Hindi engine: without a Vosk Hindi model
   they are counted as "transcription unavailable" and left out of the recognised figures.
   --telephone also passes the speech through the telephone channel first.
Writes benchmarks/results/text_analysis.json.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import load  # noqa: E402
from core.speech import transcribe as T  # noqa: E402
from core.text import analysis as X  # noqa: E402
from core.text import evaluation  # noqa: E402


def speak(text: str, path: Path, voice: str, rate: int = 150) -> None:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(path), text],
                   check=True, capture_output=True)


def table(rows, predicted, title):
    m = evaluation.field_metrics(rows, predicted)
    print(f"\n{title} ({len(rows)} utterances)")
    print(f"{'field':<15}{'precision':>10}{'recall':>8}{'accuracy':>10}")
    for name, v in m.items():
        print(f"{name:<15}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['accuracy']:>10.3f}")
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", default=str(ROOT / "tests" / "fixtures" / "utterances.csv"))
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--telephone", action="store_true")
    ap.add_argument("--voice", default="en-us", help="espeak-ng voice for the Latin-script rows")
    ap.add_argument("--rate", type=int, default=150, help="espeak-ng words per minute")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "text_analysis.json"))
    args = ap.parse_args()
    with open(args.table, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    started = time.perf_counter()
    plain = [evaluation.predicted_fields(X.analyse(text=r["text"])) for r in rows]
    per_utt_ms = (time.perf_counter() - started) / len(rows) * 1000
    result = {"plain": table(rows, plain, "plain text, all languages"),
              "plain_ms_per_utterance": round(per_utt_ms, 2)}
    for lang in ("en", "hinglish", "hi"):
        sub = [i for i, r in enumerate(rows) if r["language"] == lang]
        result[f"plain_{lang}"] = table([rows[i] for i in sub], [plain[i] for i in sub],
                                        f"plain text, {lang}")

    heard_rows, heard_pred, heard_plain, examples, unavailable = [], [], [], [], []
    engine = None
    with tempfile.TemporaryDirectory() as tmp:
        for r in rows:
            if r["language"] == "hi":
                if not T.available_engines("hi", args.models_dir):
                    unavailable.append(r["id"])
                    continue
                voice, language = "hi", "hi"
            else:
                voice, language = args.voice, "en"
            wav = Path(tmp) / f"{r['id']}.wav"
            speak(r["text"], wav, voice, args.rate)
            samples = load(wav)
            if args.telephone:
                from core.augment import telephone

                samples = telephone(samples)
            t = T.transcribe(samples, language=language, models_dir=args.models_dir)
            engine = f"{t.engine} ({t.model})"
            a = X.analyse(t)
            heard_rows.append(r)
            heard_pred.append(evaluation.predicted_fields(a))
            heard_plain.append(plain[rows.index(r)])
            if len(examples) < 12:
                examples.append({"id": r["id"], "said": r["text"], "heard": t.text,
                                 "incident_type": a.incident_type,
                                 "expected": r["incident_type"]})
    print(f"\nrecogniser: {engine}; espeak-ng voice {args.voice} at {args.rate} wpm for English "
          "and Hinglish rows"
          + ("; telephone channel" if args.telephone else ""))
    if unavailable:
        print(f"Devanagari rows {', '.join(unavailable)}: transcription unavailable for hi "
              "(no Vosk Hindi model installed) - not in the recognised figures")
    result["recognised"] = table(heard_rows, heard_pred, "through the recogniser")
    result["same_rows_plain"] = table(heard_rows, heard_plain, "the same rows as plain text")
    for lang in ("en", "hinglish"):
        sub = [i for i, r in enumerate(heard_rows) if r["language"] == lang]
        result[f"recognised_{lang}"] = table([heard_rows[i] for i in sub],
                                             [heard_pred[i] for i in sub],
                                             f"through the recogniser, {lang}")
    result.update({"engine": engine, "telephone": args.telephone, "voice": args.voice,
                   "rate": args.rate,
                   "hindi_unavailable": unavailable, "examples": examples})
    print("\nexamples (said -> heard):")
    for e in examples[:8]:
        print(f"  {e['said']!r}\n    -> {e['heard']!r}  [{e['incident_type']}]")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
