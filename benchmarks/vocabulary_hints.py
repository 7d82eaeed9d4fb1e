"""Does telling Whisper the emergency vocabulary help? Word error rate, cue recall and words on silence.

    .venv/bin/python benchmarks/vocabulary_hints.py [--split tuning] [--conditions phone,noisy15]
                                                    [--limit N] [--ravdess 48]

The call-ranking benchmark's scripted calls (rendered and cached by benchmarks/call_ranking.py, in
$CALL_BENCH_CACHE) and RAVDESS clips through the same telephone channel are transcribed by the
finished-call transcriber (Whisper base; ``WHISPER_MODEL=tiny.en`` for the live passes' model) three ways: as shipped, with the vocabulary as its prompt (``initial_prompt``), and as
``hotwords``. Per way: WER against the script, cue recall (of the cues the lexicon finds in the
script's own words, how many it finds in the transcript), cues found that the script does not have,
and words written on the silent calls. A hint is kept only if, on the TUNING part, it lowers WER and
raises cue recall without writing words on silence. Writes benchmarks/results/vocabulary_hints.json.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.callset import channel  # noqa: E402
from benchmarks.callset.human import human_clips, render_human  # noqa: E402
from benchmarks.callset.mishears import wer  # noqa: E402
from benchmarks.callset.scripts import scripts_of  # noqa: E402
from benchmarks.callset.synth import default_cache_dir, render_call  # noqa: E402
from benchmarks.callset.voices import assign_voices  # noqa: E402

#: What a 112 caller in India may say that Whisper, trained mostly on other English, mishears.
VOCABULARY = ("Emergency call to 112 in India. Help, ambulance, fire, accident, not breathing, unconscious, "
              "bleeding, knife, police, snake bite, poison, trapped, kidnapped, harassing, bachao, jaldi, "
              "behosh, aag, chor, madad, khoon.")
WAYS = {"as shipped": {}, "prompt": {"initial_prompt": VOCABULARY},
        "hotwords": {"hotwords": VOCABULARY.split(". ", 1)[1]}}


def cues(text: str) -> set[tuple[str, str]]:
    from core.text.analysis import analyse

    return {(f.kind, f.label) for f in analyse(text=text).findings if f.kind != "location"}


def main() -> None:
    from core import audio
    from core.speech.whisper import DecodeSettings, WhisperEngine

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="tuning", choices=("tuning", "heldout"))
    ap.add_argument("--conditions", default="phone,noisy15")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--ravdess", type=int, default=48, help="RAVDESS clips through the phone channel")
    ap.add_argument("--ways", default=",".join(WAYS), help="which of: " + ", ".join(WAYS))
    args = ap.parse_args()
    cache = default_cache_dir()
    scripts = scripts_of(args.split)[: args.limit or None]
    voices = assign_voices(scripts_of("all"))
    calls = []  # (reference text or None for silence, samples, group)
    for condition in args.conditions.split(","):
        for script in scripts:
            wav = render_call(script, voices[script.id], condition, cache_dir=cache).wav
            samples = audio.decode(io.BytesIO(wav)).samples
            calls.append((None if script.kind == "silent" else script.text, samples, f"calls/{condition}"))
    for clip in [c for c in human_clips() if c.corpus == "ravdess"][: args.ravdess]:
        wav, _ = render_human(clip, "phone", cache_dir=cache)
        calls.append((clip.reference, audio.decode(io.BytesIO(wav)).samples, "ravdess/phone"))
    results: dict[str, dict] = {}
    for way in args.ways.split(","):
        options = WAYS[way]
        engine = WhisperEngine(settings=DecodeSettings(beam_size=5, **options))
        per_group: dict[str, dict] = {}
        started = time.perf_counter()
        for reference, samples, group in calls:
            text, _ = engine.run(samples)
            g = per_group.setdefault(group, {"errors": 0, "words": 0, "cues": 0, "found": 0, "extra": 0,
                                             "silent_calls": 0, "words_on_silence": 0})
            if reference is None:
                g["silent_calls"] += 1
                g["words_on_silence"] += len(text.split())
                continue
            measured = wer(reference, text)
            if measured is not None:
                g["errors"] += round(measured[0] * measured[1])
                g["words"] += measured[1]
            said, heard = cues(reference), cues(text)
            g["cues"] += len(said)
            g["found"] += len(said & heard)
            g["extra"] += len(heard - said)
        for g in per_group.values():
            g["wer"] = round(g["errors"] / max(1, g["words"]), 4)
            g["cue_recall"] = round(g["found"] / g["cues"], 4) if g["cues"] else None  # RAVDESS says no cue
        results[way] = {"groups": per_group, "seconds_per_call": round((time.perf_counter() - started) / len(calls), 3)}
        print(f"{way:12} " + "  ".join(f"{grp}: WER {g['wer']:.3f} cue recall {g['cue_recall'] or 0:.3f} "
                                       f"extra cues {g['extra']} words on {g['silent_calls']} silent calls "
                                       f"{g['words_on_silence']}" for grp, g in per_group.items()))
    from _django import write_results

    write_results("vocabulary_hints", {"split": args.split, "conditions": args.conditions, "vocabulary": VOCABULARY,
                                       "ways": results, "channel": channel.CONDITIONS["phone"].describe()})


if __name__ == "__main__":
    main()
