"""What a clip sounds like, in a few numbers an admin can compare across labels (the dataset
explorer): pitch, loudness, speaking rate, spectral centroid, the first MFCCs. Plain Python."""

from __future__ import annotations

import numpy as np

ATTRIBUTES = {
    "pitch_hz": "median pitch (Hz) of the voiced frames",
    "loudness_db": "loudness (RMS, dB below full scale)",
    "speaking_rate": "speaking rate (syllable-like onsets per second)",
    "centroid_hz": "spectral centroid (Hz): how bright the voice is",
    "mfcc1": "MFCC 1 (overall spectral slope)",
    "mfcc2": "MFCC 2",
}


def clip_attributes(samples: np.ndarray, sample_rate: int = 16_000) -> dict[str, float | None]:
    import librosa

    y = np.asarray(samples, dtype=np.float32)
    f0 = librosa.yin(y, fmin=65, fmax=500, sr=sample_rate, frame_length=1024)
    rms = librosa.feature.rms(y=y, frame_length=1024, hop_length=256)[0]  # the frames yin uses
    n = min(len(f0), len(rms))
    voiced = f0[:n][rms[:n] > 0.3 * rms.max()] if rms.size and rms.max() > 0 else np.array([])
    onsets = librosa.onset.onset_detect(y=y, sr=sample_rate, units="time")
    mfcc = librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=3)
    duration = len(y) / sample_rate
    loud = float(np.sqrt(np.mean(y ** 2)))
    return {
        "pitch_hz": round(float(np.median(voiced)), 1) if voiced.size else None,
        "loudness_db": round(float(20 * np.log10(max(loud, 1e-6))), 2),
        "speaking_rate": round(len(onsets) / duration, 2) if duration else None,
        "centroid_hz": round(float(librosa.feature.spectral_centroid(y=y, sr=sample_rate).mean()), 1),
        "mfcc1": round(float(mfcc[1].mean()), 2),
        "mfcc2": round(float(mfcc[2].mean()), 2),
    }
