"""The trivial baselines any voice model must beat: loudness alone, pitch alone, and both.

    .venv/bin/python benchmarks/voice_baselines.py [--out voice_baselines]

Distress: angry, fearful and sad against calm, neutral and happy (RAVDESS) or neutral and happy
(EmoDB; boredom and disgust left out), as benchmarks/ranking_auc.py reads it. For each clip:

- loudness: the RMS level (dB) of its active frames, as it arrives;
- pitch: the median F0 of its voiced frames (YIN, 60–500 Hz);
- each also *relative to the speaker's own voice* (minus that speaker's median over the corpus: on a
  live call, the caller's first seconds give the same baseline).

Figures: ROC AUC of each feature alone (higher = distressed; no training), and of both together
(a logistic regression trained on the other corpus: leave-one-corpus-out), on each corpus, clean and
through the 8 kHz mu-law telephone channel (the handset's gain normalises the level, as real lines
do), with the male/female split. Writes benchmarks/results/<out>.json.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks._django import write_results  # noqa: E402
from benchmarks.callset import channel  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
DISTRESS = {"angry", "fearful", "sad"}
CALM = {"calm", "neutral", "happy"}
RATE = 16_000


def clips(corpus: str) -> list[dict]:
    folder = SHARED / corpus
    with (folder / "metadata.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        if row["emotion"] in DISTRESS | CALM:
            out.append({"path": folder / row["path"], "distressed": row["emotion"] in DISTRESS, "corpus": corpus,
                        "speaker": f"{corpus}/{row.get('actor') or row.get('speaker')}", "gender": row["gender"]})
    return out


def load(path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    return soxr.resample(mono, rate, RATE).astype(np.float32) if rate != RATE else mono


def telephone(samples: np.ndarray, seed: int) -> np.ndarray:
    codes, _ = channel.telephone_call(samples, channel.CONDITIONS["phone"], np.random.default_rng(seed))
    return channel.resample(channel.mulaw_decode(codes), channel.PHONE_RATE, RATE).astype(np.float32)


def features(samples: np.ndarray) -> tuple[float, float]:
    """(loudness dB of the active frames, median F0 Hz of the voiced ones; nan without any)."""
    import librosa

    frame, hop = 1024, 256
    rms = librosa.feature.rms(y=samples, frame_length=frame, hop_length=hop)[0]
    active = rms > max(1e-5, 0.1 * float(np.max(rms)))
    loudness = 20 * np.log10(float(np.sqrt(np.mean(rms[active] ** 2))) + 1e-9) if active.any() else float("nan")
    f0 = librosa.yin(samples, fmin=60, fmax=500, sr=RATE, frame_length=frame * 2, hop_length=hop)
    voiced = f0[: len(active)][active[: len(f0)]]
    voiced = voiced[(voiced > 61) & (voiced < 499)]
    return loudness, float(np.median(voiced)) if voiced.size else float("nan")


def _auc(truth: list[bool], scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    keep = np.isfinite(scores)
    labels = np.asarray(truth)[keep]
    if labels.size == 0 or labels.all() or not labels.any():
        return None
    return round(float(roc_auc_score(labels, scores[keep])), 3)


def relative(rows: list[dict], key: str) -> np.ndarray:
    """The feature minus its speaker's median over the corpus."""
    values = np.array([r[key] for r in rows], dtype=np.float64)
    speakers = np.array([r["speaker"] for r in rows])
    out = values.copy()
    for speaker in set(speakers):
        mine = speakers == speaker
        out[mine] = values[mine] - np.nanmedian(values[mine])
    return out


def figures(rows: list[dict], train: list[dict]) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    truth = [r["distressed"] for r in rows]
    out: dict = {}
    for name, absolute_key in (("loudness", "loudness"), ("pitch", "pitch")):
        out[name] = _auc(truth, np.array([r[absolute_key] for r in rows], dtype=np.float64))
        out[f"{name}_relative"] = _auc(truth, relative(rows, absolute_key))
    for name, columns in (("both", ("loudness", "pitch")), ("both_relative", ("loudness_rel", "pitch_rel"))):
        x_train = np.array([[r[c] for c in columns] for r in train], dtype=np.float64)
        y_train = np.array([r["distressed"] for r in train])
        x_test = np.array([[r[c] for c in columns] for r in rows], dtype=np.float64)
        ok_train, ok_test = np.isfinite(x_train).all(axis=1), np.isfinite(x_test).all(axis=1)
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x_train[ok_train], y_train[ok_train])
        scores = np.full(len(rows), np.nan)
        scores[ok_test] = model.predict_proba(x_test[ok_test])[:, 1]
        out[name] = _auc(truth, scores)
        for gender in ("male", "female"):
            mine = np.array([r["gender"] == gender for r in rows])
            out[f"{name}_{gender}"] = _auc([t for t, m in zip(truth, mine, strict=True) if m], scores[mine])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="voice_baselines")
    args = parser.parse_args()
    corpora = {name: clips(name) for name in ("ravdess", "emodb")}
    results: dict = {}
    for condition in ("clean", "telephone"):
        for rows in corpora.values():
            for i, row in enumerate(rows):
                samples = load(row["path"])
                if condition == "telephone":
                    samples = telephone(samples, seed=i)
                row["loudness"], row["pitch"] = features(samples)
            for key in ("loudness", "pitch"):
                for row, value in zip(rows, relative(rows, key), strict=True):
                    row[f"{key}_rel"] = value
        for name, rows in corpora.items():
            other = corpora["emodb" if name == "ravdess" else "ravdess"]
            results[f"{name}/{condition}"] = {"clips": len(rows), **figures(rows, other)}
            print(f"{name:8} {condition:9} " + "  ".join(f"{k} {v}" for k, v in results[f"{name}/{condition}"].items()),
                  flush=True)
    write_results(args.out, {"distress": sorted(DISTRESS), "calm": sorted(CALM), "results": results})


if __name__ == "__main__":
    main()
