"""Word error rate of the offline engines side by side, on real recorded speech, per emotion.

    .venv/bin/python benchmarks/transcription_wer.py [--ravdess DIR] [--per-emotion 15]
        [--configs whisper-b5,whisper-b1,whisper-b5-vad,pocketsphinx]

RAVDESS actors say one of two known sentences ("Kids are talking by the door", "Dogs are
sitting by the door") in eight emotions and two intensities, so the WER per emotion shows how
transcription holds up when callers shout or cry. Each clip is transcribed as recorded (16 kHz)
and after the telephone channel (8 kHz, 300-3400 Hz, G.711 mu-law round trip,
core.augment.telephone); the synthetic spoken samples in ../shared/data/speech-samples are
transcribed too. Every engine configuration runs in a process of its own, so its real-time
factor and peak memory are its own. A stratified subset (the same number of clips per emotion,
spread over actors, both sentences and intensities, fixed seed) keeps the run short;
--per-emotion 0 uses every clip. Writes benchmarks/results/transcription_wer.json.
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


CONFIGS = {  # engine, beam size, VAD filter, temperature fallback
    "whisper-b5": ("whisper", 5, False, False),
    "whisper-b1": ("whisper", 1, False, False),
    "whisper-b5-vad": ("whisper", 5, True, False),
    "whisper-b5-fallback": ("whisper", 5, False, True),
    "pocketsphinx": ("pocketsphinx", 0, False, False),
}
SAMPLES = {"en_ambulance.wav": "we need an ambulance as soon as possible",
           "en_fire.wav": "this place is on fire please send help"}


def _engine(name: str):
    engine, beam, vad, fallback = CONFIGS[name]
    if engine == "whisper":
        from core.speech.whisper import DecodeSettings, WhisperEngine

        settings = DecodeSettings(beam_size=beam, vad_filter=vad, temperature_fallback=fallback)
        return WhisperEngine(settings=settings, threads=1)
    from core.speech.engines import PocketSphinxEngine

    return PocketSphinxEngine()


def run_config(name: str, root: Path, rows: list[dict], samples_dir: Path) -> dict:
    """One engine configuration over every clip (in a process of its own)."""
    from benchmarks._measure import PeakRss

    with PeakRss() as rss:
        started = time.perf_counter()
        engine = _engine(name)
        load_s = time.perf_counter() - started
        refs: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        hyps: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        audio_s = {"clean": 0.0, "telephone": 0.0}
        proc_s = {"clean": 0.0, "telephone": 0.0}
        for r in rows:
            clean = load(root / r["path"])
            ref = SENTENCES[r["statement"]]
            for channel, samples in (("clean", clean), ("telephone", telephone(clean))):
                t0 = time.perf_counter()
                text, _words = engine.run(samples)
                proc_s[channel] += time.perf_counter() - t0
                audio_s[channel] += len(samples) / 16000
                for key in (r["emotion"], f"intensity:{r['intensity']}", "all"):
                    refs[channel][key].append(ref)
                    hyps[channel][key].append(normalise(text))
        synthetic = {}
        for file in SAMPLES:
            if (samples_dir / file).exists():
                synthetic[file] = normalise(engine.run(load(samples_dir / file))[0])
    keys = sorted(k for k in refs["clean"] if k != "all") + ["all"]
    return {
        "config": name, "model": engine.model, "load_seconds": round(load_s, 2),
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "real_time_factor": {c: round(proc_s[c] / audio_s[c], 4) for c in proc_s},
        "by_group": {k: {"clips": len(refs["clean"][k]), "wer_clean": wer(refs["clean"][k], hyps["clean"][k]),
                         "wer_telephone": wer(refs["telephone"][k], hyps["telephone"][k])} for k in keys},
        "synthetic": {f: {"reference": SAMPLES[f], "hypothesis": h, "wer": wer([SAMPLES[f]], [h])}
                      for f, h in synthetic.items()},
    }


def main() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ravdess", default=str(default_ravdess()))
    ap.add_argument("--per-emotion", type=int, default=15)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "transcription_wer.json"))
    args = ap.parse_args()
    root = Path(args.ravdess)
    samples_dir = root.parent / "speech-samples"
    with open(root / "metadata.csv", newline="") as fh:
        rows = stratified(list(csv.DictReader(fh)), args.per_emotion)
    names = [n for n in args.configs.split(",") if n]
    print(f"{len(rows)} RAVDESS clips x (clean, telephone), engines: {', '.join(names)}")
    results = []
    for name in names:  # one fresh process each: its own load time, real-time factor and memory
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            results.append(pool.submit(run_config, name, root, rows, samples_dir).result())
        r = results[-1]
        print(f"{name:<16} WER clean {r['by_group']['all']['wer_clean']:.3f}  telephone "
              f"{r['by_group']['all']['wer_telephone']:.3f}  RTF {r['real_time_factor']['clean']:.3f}/"
              f"{r['real_time_factor']['telephone']:.3f}  peak {r['peak_rss_mb']:.0f} MB  synthetic "
              + ", ".join(f"{v['wer']:.2f}" for v in r["synthetic"].values()), flush=True)
    groups = list(results[0]["by_group"])
    print(f"\n{'group':<22}" + "".join(f"{n[:14]:>16}" for n in names) + "   (WER clean / telephone)")
    for g in groups:
        print(f"{g:<22}" + "".join(f"{r['by_group'][g]['wer_clean']:>8.3f}/{r['by_group'][g]['wer_telephone']:<7.3f}"
                                   for r in results))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"clips": len(rows), "per_emotion": args.per_emotion, "threads": 1,
                               "telephone": "core.augment.telephone: 8 kHz, 300-3400 Hz, G.711 mu-law",
                               "results": results}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
