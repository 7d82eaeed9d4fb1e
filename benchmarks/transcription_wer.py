"""Word error rate of offline transcription on real recorded speech, per emotion.

    .venv/bin/python benchmarks/transcription_wer.py [--ravdess DIR] [--per-emotion 30]
        [--engine pocketsphinx|vosk] [--language en] [--models-dir DIR]

RAVDESS actors say one of two known sentences ("Kids are talking by the door", "Dogs are
sitting by the door") in eight emotions and two intensities, so the WER per emotion shows how
transcription holds up when callers shout or cry. Each clip is transcribed twice: as recorded
(16 kHz) and after the telephone channel (8 kHz, 300-3400 Hz, G.711 mu-law round trip,
core.augment.telephone). A stratified subset (the same number of clips per emotion, spread
over actors, both sentences and intensities, fixed seed) keeps the run short; --per-emotion 0
uses every clip. Writes benchmarks/results/transcription_wer.json.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jiwer  # noqa: E402
import numpy as np  # noqa: E402

from core.audio import load  # noqa: E402
from core.augment import telephone  # noqa: E402
from core.speech import transcribe as T  # noqa: E402

SENTENCES = {"1": "kids are talking by the door", "2": "dogs are sitting by the door"}


def default_ravdess() -> Path:
    return Path(os.environ.get("RAVDESS_DIR", ROOT.parent / "shared" / "data" / "ravdess"))


def normalise(text: str) -> str:
    return " ".join("".join(c if c.isalnum() or c in " '" else " " for c in text.lower()).split())


def stratified(rows: list[dict], per_emotion: int, seed: int = 0) -> list[dict]:
    if per_emotion <= 0:
        return rows
    rng = np.random.default_rng(seed)
    by_emotion: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_emotion[r["emotion"]].append(r)
    chosen = []
    for emotion in sorted(by_emotion):
        group = by_emotion[emotion]
        # round-robin over actors so every speaker counts, shuffled within each actor
        by_actor: dict[str, list[dict]] = defaultdict(list)
        for r in group:
            by_actor[r["actor"]].append(r)
        for lst in by_actor.values():
            rng.shuffle(lst)
        actors = sorted(by_actor, key=int)
        picked: list[dict] = []
        while len(picked) < min(per_emotion, len(group)):
            for a in actors:
                if by_actor[a] and len(picked) < per_emotion:
                    picked.append(by_actor[a].pop())
        chosen += picked
    return chosen


def wer(refs: list[str], hyps: list[str]) -> float:
    return round(jiwer.wer(refs, [h or "<empty>" for h in hyps]), 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ravdess", default=str(default_ravdess()))
    ap.add_argument("--per-emotion", type=int, default=30)
    ap.add_argument("--engine", default=None, choices=T.ENGINES)
    ap.add_argument("--language", default="en")
    ap.add_argument("--models-dir", default=None)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "transcription_wer.json"))
    args = ap.parse_args()
    root = Path(args.ravdess)
    with open(root / "metadata.csv", newline="") as fh:
        rows = stratified(list(csv.DictReader(fh)), args.per_emotion)
    engine = T.get_engine(args.language, models_dir=args.models_dir, engine=args.engine)
    print(f"{len(rows)} clips, engine {engine.name} ({engine.model}), language {args.language}")
    refs: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    hyps: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    audio_s = {"clean": 0.0, "telephone": 0.0}
    proc_s = {"clean": 0.0, "telephone": 0.0}
    examples = []
    started = time.perf_counter()
    for i, r in enumerate(rows, 1):
        clean = load(root / r["path"])
        ref = SENTENCES[r["statement"]]
        for channel, samples in (("clean", clean), ("telephone", telephone(clean))):
            t = T.transcribe(samples, language=args.language, models_dir=args.models_dir,
                             engine=args.engine)
            audio_s[channel] += t.audio_seconds
            proc_s[channel] += t.seconds
            hyp = normalise(t.text)
            for key in (r["emotion"], f"intensity:{r['intensity']}", "all"):
                refs[channel][key].append(ref)
                hyps[channel][key].append(hyp)
            if len(examples) < 16 and i % 15 == 0:
                examples.append({"file": r["path"], "emotion": r["emotion"], "channel": channel,
                                 "reference": ref, "hypothesis": hyp})
        if i % 40 == 0:
            print(f"  {i}/{len(rows)} clips, {time.perf_counter() - started:.0f} s", flush=True)
    keys = sorted(k for k in refs["clean"] if k != "all" and not k.startswith("intensity:"))
    keys += sorted(k for k in refs["clean"] if k.startswith("intensity:")) + ["all"]
    table = {
        k: {
            "clips": len(refs["clean"][k]),
            "wer_clean": wer(refs["clean"][k], hyps["clean"][k]),
            "wer_telephone": wer(refs["telephone"][k], hyps["telephone"][k]),
            "exact_sentence_clean": round(float(np.mean(
                [a == b for a, b in zip(refs["clean"][k], hyps["clean"][k], strict=True)])), 4),
        }
        for k in keys
    }
    print(f"\n{'group':<22}{'clips':>6}{'WER clean':>11}{'WER phone':>11}{'exact clean':>13}")
    for k, v in table.items():
        print(f"{k:<22}{v['clips']:>6}{v['wer_clean']:>11.3f}{v['wer_telephone']:>11.3f}"
              f"{v['exact_sentence_clean']:>13.2f}")
    rtf = {c: round(proc_s[c] / audio_s[c], 4) for c in proc_s}
    print(f"\nreal-time factor over the run: clean {rtf['clean']:.3f}, telephone "
          f"{rtf['telephone']:.3f}; total {time.perf_counter() - started:.0f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "engine": engine.name, "model": engine.model, "language": args.language,
        "clips": len(rows), "per_emotion": args.per_emotion, "subset": args.per_emotion > 0,
        "telephone": "core.augment.telephone: 8 kHz, 300-3400 Hz, G.711 mu-law",
        "by_group": table, "real_time_factor": rtf, "examples": examples,
    }, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
