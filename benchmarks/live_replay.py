"""The live commit policy on recorded calls, without the clock: each call of a live set
(benchmarks/callset/live_scripts.py) is fed to LocalAgreement in steps of LIVE_STEP_SECONDS of audio,
a Whisper pass whenever the policy asks for one, as a worker that keeps up would (the compute time
is not counted). Printed per call and per set: WER of the committed words against the script,
beside the live model run once over the whole call (what streaming costs the words), and how many
seconds of audio after a word's end the word was committed (p50/p95: the policy's own share of the
lag, before any waiting for the CPU).

Quick to run (about a minute a set on 2 cores) and repeatable: the way to try a policy setting
before the real-time benchmark (benchmarks/live_calls.py); choose settings on ``tuning`` only.

Also printed: the CPU the passes cost per second of call audio (how many calls a core can follow).

Usage: benchmarks/live_replay.py [--set tuning,heldout] [--settle 1.0] [--step 0.5] [--trim 8.0] [--out live_replay]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import write_results  # noqa: E402
from benchmarks.callset import channel  # noqa: E402
from benchmarks.callset.live_scripts import SETS  # noqa: E402
from benchmarks.live_calls import render, wer  # noqa: E402
from core.speech.streaming import SAMPLE_RATE, TRIM_SECONDS, LocalAgreement, silero_speech_finder  # noqa: E402
from core.speech.transcript import Word  # noqa: E402
from core.speech.whisper import DecodeSettings, WhisperEngine  # noqa: E402


class TimedPasses:
    """The live engine's passes, with the CPU time they took (this process's, so run nothing beside it)."""

    def __init__(self, engine: WhisperEngine) -> None:
        self.engine = engine
        self.cpu_seconds = 0.0

    def __call__(self, audio: np.ndarray, prompt: str | None) -> list[Word]:
        began = time.process_time()
        try:
            return self.engine.run_with_prompt(audio, prompt)[1]
        finally:
            self.cpu_seconds += time.process_time() - began


def replay(samples: np.ndarray, passes_of: TimedPasses, *, step: float, settle: float | None,
           trim: float) -> tuple[str, list[float], int]:
    """The call streamed through the policy: its committed text, each word's commit lag (seconds of
    audio heard after the word's end when it was committed) and how many passes ran."""
    agreement = LocalAgreement(passes_of, has_speech=silero_speech_finder(), min_new_seconds=0.8 * step,
                               settle_seconds=settle, trim_seconds=trim)
    hop = int(step * SAMPLE_RATE)
    lags: list[float] = []
    passes = 0
    for start in range(0, samples.size, hop):
        agreement.insert(samples[start:start + hop])
        update = agreement.step()
        passes += update.decoded
        lags += [agreement.heard_seconds - w.end for w in update.committed]
    final = agreement.finish()
    lags += [agreement.heard_seconds - w.end for w in final.committed]
    return " ".join(w.word for w in agreement.committed), lags, passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="tuning", help="sets of calls: tuning, heldout (default tuning)")
    parser.add_argument("--settle", type=float, default=1.0, help="LIVE_SETTLE_SECONDS (0: off)")
    parser.add_argument("--step", type=float, default=0.5, help="LIVE_STEP_SECONDS")
    parser.add_argument("--trim", type=float, default=TRIM_SECONDS, help="the buffer's trim length in seconds")
    parser.add_argument("--model", default="tiny.en", help="LIVE_WHISPER_MODEL")
    parser.add_argument("--out", default="live_replay")
    args = parser.parse_args()
    engine = WhisperEngine(settings=DecodeSettings(beam_size=1), short_windows=True, threads=1, model_name=args.model)
    whole = WhisperEngine(settings=DecodeSettings(beam_size=1), model_name=args.model)
    summary: dict = {"settle": args.settle, "step": args.step, "trim": args.trim, "model": engine.model, "sets": {}}
    for name in [s for s in args.set.split(",") if s]:
        references, live, offline, lags, calls = [], [], [], [], []
        begun = time.perf_counter()
        passes_of, audio_seconds = TimedPasses(engine), 0.0
        for script in SETS[name]:
            call = render(script)
            samples = channel.resample(np.frombuffer(call.pcm, "<i2").astype(np.float32) / 32768, 8000, SAMPLE_RATE)
            text, call_lags, passes = replay(samples, passes_of, step=args.step, settle=args.settle or None,
                                             trim=args.trim)
            audio_seconds += samples.size / SAMPLE_RATE
            references.append(call.reference)
            live.append(text)
            offline.append(whole.run(samples)[0])
            lags += call_lags
            calls.append({"voice": ":".join(script.voice), "wer_live": wer([call.reference], [text]),
                          "wer_whole_call": wer([call.reference], [offline[-1]]), "passes": passes, "live": text})
            print(f"  [{name}] {calls[-1]['voice']}: WER live {calls[-1]['wer_live']} vs whole call "
                  f"{calls[-1]['wer_whole_call']} ({passes} passes): {text!r}", flush=True)
        result = {"wer_live": wer(references, live), "wer_whole_call": wer(references, offline),
                  "commit_lag_audio_s": {"p50": round(float(np.percentile(lags, 50)), 2),
                                         "p95": round(float(np.percentile(lags, 95)), 2)},
                  # what one live call costs the worker's Whisper passes: calls one core can follow
                  "pass_cpu_s_per_audio_s": round(passes_of.cpu_seconds / audio_seconds, 3),
                  "seconds": round(time.perf_counter() - begun, 1), "calls": calls}
        summary["sets"][name] = result
        print(f"[{name}] WER live {result['wer_live']} vs whole call {result['wer_whole_call']} ({engine.model}); "
              f"committed {result['commit_lag_audio_s']['p50']} s (p50), {result['commit_lag_audio_s']['p95']} s (p95) "
              f"of audio after the word; passes cost {result['pass_cpu_s_per_audio_s']} CPU s per second of audio",
              flush=True)
    write_results(args.out, summary)


if __name__ == "__main__":
    main()
