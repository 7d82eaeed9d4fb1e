"""Voice gender estimate: a hint for the operator, never a triage input.

Two estimators, both measured on held-out speakers:

* learned (preferred): a logistic regression over the mean and standard deviation of the
  emotion model's own features (the same windows, computed by core.emotion.features), trained with
  each emotion model version on its training speakers and stored next to it as
  ``gender.json``. Used when ``estimate_gender(..., model_dir=...)`` is given a model version
  that has one. Figures: that version's metadata.json, metrics.gender_test.
* pitch (fallback, no model needed): the median fundamental frequency (librosa.pyin) of the
  voiced frames through a logistic curve centred on a threshold chosen on RAVDESS training
  actors 1-16 (``benchmarks/emotion_gender.py``; figures in benchmarks/results/).

An estimate with too little speech, or too unsure, is 'unknown'. Plain Python: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.audio import TARGET_SAMPLE_RATE
from core.emotion.prediction import GenderEstimate

if TYPE_CHECKING:
    from pathlib import Path

    from core.emotion.features import FeatureConfig

# Chosen on RAVDESS training actors 1-16 (benchmarks/emotion_gender.py: best of 120-220 Hz);
# never tuned on actors 17-24.
THRESHOLD_HZ = 185.0
SLOPE_PER_OCTAVE = 8.0
MIN_VOICED_SECONDS = 0.25
MIN_CONFIDENCE = 0.6
F0_MIN_HZ = 60.0
F0_MAX_HZ = 450.0
MAX_SECONDS = 30.0  # pitch of the first 30 s is plenty, and bounds the cost on long calls


def median_f0(samples: np.ndarray, sample_rate: int = TARGET_SAMPLE_RATE) -> tuple[float | None, float]:
    """(median F0 in Hz of voiced frames or None, voiced seconds)."""
    import librosa

    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1 or x.size < sample_rate // 10 or not np.all(np.isfinite(x)):
        return None, 0.0
    x = x[: int(MAX_SECONDS * sample_rate)]
    # pyin at 8 kHz is 2x cheaper and loses nothing below 450 Hz.
    if sample_rate != 8000:
        import soxr

        x = soxr.resample(x, sample_rate, 8000).astype(np.float32)
        sample_rate = 8000
    frame_length, hop = 512, 128
    if x.size < frame_length:
        return None, 0.0
    f0, voiced, _prob = librosa.pyin(
        x, fmin=F0_MIN_HZ, fmax=F0_MAX_HZ, sr=sample_rate,
        frame_length=frame_length, hop_length=hop, center=True,
    )
    voiced_f0 = f0[voiced & np.isfinite(f0)]
    seconds = voiced_f0.size * hop / sample_rate
    if voiced_f0.size == 0:
        return None, 0.0
    return float(np.median(voiced_f0)), float(seconds)


def estimate_from_f0(f0_hz: float | None, voiced_seconds: float, *,
                     threshold_hz: float = THRESHOLD_HZ,
                     slope: float = SLOPE_PER_OCTAVE) -> GenderEstimate:
    if f0_hz is None or voiced_seconds < MIN_VOICED_SECONDS:
        return GenderEstimate("unknown", 0.0, f0_hz)
    p_female = 1.0 / (1.0 + np.exp(-slope * np.log2(f0_hz / threshold_hz)))
    label, confidence = ("female", p_female) if p_female >= 0.5 else ("male", 1.0 - p_female)
    if confidence < MIN_CONFIDENCE:
        return GenderEstimate("unknown", round(float(confidence), 4), round(f0_hz, 1))
    return GenderEstimate(label, round(float(confidence), 4), round(f0_hz, 1))


GENDER_FILE = "gender.json"


def gender_features(windows: np.ndarray) -> np.ndarray:
    """Mean and standard deviation over every frame of a clip's feature windows."""
    frames = np.asarray(windows, dtype=np.float32).reshape(-1, np.shape(windows)[-1])
    return np.concatenate([frames.mean(axis=0), frames.std(axis=0)]).astype(np.float64)


@dataclass(frozen=True)
class GenderModel:
    """Logistic regression (female = 1) over standardised gender_features, in plain numpy."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def p_female(self, features: np.ndarray) -> float:
        z = float(((features - self.mean) / self.scale) @ self.coef + self.intercept)
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "logistic_regression_feature_stats", "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict[str, Any], n_features: int) -> GenderModel:
        model = cls(np.asarray(data["mean"], float), np.asarray(data["scale"], float),
                    np.asarray(data["coef"], float), float(data["intercept"]))
        if not (model.mean.shape == model.scale.shape == model.coef.shape == (2 * n_features,)):
            raise ValueError("gender model does not match the feature settings")
        return model


def estimate_from_p_female(p_female: float) -> GenderEstimate:
    label, confidence = ("female", p_female) if p_female >= 0.5 else ("male", 1.0 - p_female)
    if confidence < MIN_CONFIDENCE:
        return GenderEstimate("unknown", round(float(confidence), 4))
    return GenderEstimate(label, round(float(confidence), 4))


_LEARNED: dict[Path, tuple[GenderModel, FeatureConfig] | None] = {}


def _learned(model_dir: str | Path) -> tuple[GenderModel, FeatureConfig] | None:
    """(GenderModel, FeatureConfig) of a CNN model version, or None when it has no gender.json (an
    encoder version's classifier gives its own estimate with every prediction)."""
    import json
    from pathlib import Path

    from core.emotion.features import FeatureConfig

    key = Path(model_dir).resolve()
    if key not in _LEARNED:
        path = key / GENDER_FILE
        entry = None
        if path.is_file():
            from core.emotion.model_version import read_metadata

            meta = read_metadata(key)
            if meta["model_kind"] == "cnn1d":
                config = FeatureConfig.from_dict(meta["feature_config"])
                data = json.loads(path.read_text(encoding="utf-8"))
                entry = (GenderModel.from_dict(data, config.n_features), config)
        _LEARNED[key] = entry
    return _LEARNED[key]


def estimate_gender(samples: np.ndarray, sample_rate: int = TARGET_SAMPLE_RATE,
                    model_dir: str | Path | None = None) -> GenderEstimate:
    """Estimate 'female' / 'male' / 'unknown' with a confidence.

    With `model_dir` (an emotion model version holding gender.json) the learned estimator is
    used; otherwise (or when the version has none) the pitch estimator.
    """
    learned = _learned(model_dir) if model_dir is not None else None
    if learned is None:
        f0, seconds = median_f0(samples, sample_rate)
        return estimate_from_f0(f0, seconds)
    from core.audio import is_silent
    from core.emotion.features import FeatureError, inference_windows

    model, config = learned
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1 or x.size < sample_rate // 4 or is_silent(x):
        return GenderEstimate("unknown", 0.0)
    try:
        windows = inference_windows(x[: int(MAX_SECONDS * sample_rate)], sample_rate, config)
    except FeatureError:
        return GenderEstimate("unknown", 0.0)
    return estimate_from_p_female(model.p_female(gender_features(windows)))
