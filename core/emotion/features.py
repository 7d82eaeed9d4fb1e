"""Acoustic features for the emotion model: the one place where they are computed.

Training and inference both call :func:`prepare` (decode-normalised samples -> trimmed,
loudness-normalised samples) and :func:`frame_features` (samples -> frames x features), then
:func:`to_windows` (frames -> fixed-size windows the CNN reads). Nothing else computes features,
so the two paths cannot drift apart. Plain Python: no Django, no TensorFlow.

Per frame (25 ms steps of 16 ms) the features are: log-mel energies, MFCCs with their first and
second deltas, zero-crossing rate and RMS (in dB). The exact settings travel in the model's
metadata (``FeatureConfig.to_dict``) and are checked when a model is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from core.audio import TARGET_SAMPLE_RATE, normalise_loudness, trim_silence

# Bump when the computation below changes in a way that changes the numbers for the same
# settings; a model trained with another version is refused at load time.
FEATURE_VERSION = 1


class FeatureError(ValueError):
    """Samples that cannot be turned into features (empty, wrong rate, non-finite)."""


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int = TARGET_SAMPLE_RATE
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 64
    n_mfcc: int = 20
    fmin: float = 50.0
    fmax: float = 8000.0
    trim_top_db: float = 30.0
    target_rms: float = 0.05
    window_frames: int = 160  # ~2.6 s per window at hop 256
    window_hop_frames: int = 80  # windows of a long clip overlap by half
    feature_version: int = FEATURE_VERSION

    @property
    def n_features(self) -> int:
        return self.n_mels + 3 * self.n_mfcc + 2

    def feature_names(self) -> list[str]:
        names = [f"logmel_{i}" for i in range(self.n_mels)]
        for prefix in ("mfcc", "mfcc_d1", "mfcc_d2"):
            names += [f"{prefix}_{i}" for i in range(self.n_mfcc)]
        return names + ["zcr", "rms_db"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureConfig:
        known = {f.name for f in fields(cls)}
        settings = dict(data)
        for name in RETIRED_PARAMETERS:
            settings.pop(name, None)
        for name, off in RETIRED_SWITCHES.items():
            if name in settings and settings.pop(name) != off:
                raise FeatureError(
                    f"The model was trained with the retired feature setting {name!r}, which this "
                    "code no longer computes. Retrain the model."
                )
        unknown = set(settings) - known
        if unknown:
            raise FeatureError(f"Unknown feature settings: {sorted(unknown)}")
        missing = known - set(settings)
        if missing:
            raise FeatureError(f"Missing feature settings: {sorted(missing)}")
        return cls(**settings)


# Settings of experiments that were tried and not shipped (relative-pitch columns, vocal-tract-
# length normalisation; results in docs/models.md). Metadata that names them is accepted while they
# are off; a model trained with one switched on is refused.
RETIRED_SWITCHES: dict[str, object] = {"pitch_features": False, "vtln_strength": 0.0, "vtln_warp_column": False}
RETIRED_PARAMETERS = ("f0_min", "f0_max", "vtln_ref_f0")
DEFAULT_CONFIG = FeatureConfig()


def prepare(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Trim leading/trailing silence and normalise loudness (mono float32 at config rate)."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise FeatureError(f"Expected mono samples (1-D), got shape {samples.shape}.")
    if samples.size == 0:
        raise FeatureError("No audio samples.")
    if not np.all(np.isfinite(samples)):
        raise FeatureError("Audio samples contain NaN or infinity.")
    trimmed = trim_silence(samples, top_db=config.trim_top_db)
    return normalise_loudness(trimmed, target_rms=config.target_rms)


_MEL_CACHE: dict[tuple[int, int, int, float, float], np.ndarray] = {}


def _mel_basis(config: FeatureConfig) -> np.ndarray:
    import librosa

    key = (config.sample_rate, config.n_fft, config.n_mels, config.fmin, config.fmax)
    basis = _MEL_CACHE.get(key)
    if basis is None:
        basis = librosa.filters.mel(
            sr=config.sample_rate,
            n_fft=config.n_fft,
            n_mels=config.n_mels,
            fmin=config.fmin,
            fmax=config.fmax,
        ).astype(np.float32)
        _MEL_CACHE[key] = basis
    return basis


def frame_features(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Per-frame features of prepared samples: float32 array (frames, config.n_features)."""
    import librosa
    import scipy.fft

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0:
        raise FeatureError("Expected non-empty mono samples.")
    if samples.size < config.n_fft:
        samples = np.pad(samples, (0, config.n_fft - samples.size))
    stft = librosa.stft(samples, n_fft=config.n_fft, hop_length=config.hop_length, center=True)
    power = (np.abs(stft) ** 2).astype(np.float32)
    mel = _mel_basis(config) @ power
    log_mel = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).astype(np.float32)
    mfcc = scipy.fft.dct(log_mel, axis=0, type=2, norm="ortho")[: config.n_mfcc]
    n_frames = log_mel.shape[1]
    if n_frames >= 3:
        width = min(9, n_frames if n_frames % 2 else n_frames - 1)
        d1 = librosa.feature.delta(mfcc, width=width, order=1, mode="interp")
        d2 = librosa.feature.delta(mfcc, width=width, order=2, mode="interp")
    else:
        d1 = np.zeros_like(mfcc)
        d2 = np.zeros_like(mfcc)
    zcr = librosa.feature.zero_crossing_rate(
        samples, frame_length=config.n_fft, hop_length=config.hop_length, center=True
    )
    rms = librosa.feature.rms(
        y=samples, frame_length=config.n_fft, hop_length=config.hop_length, center=True
    )
    rms_db = 20.0 * np.log10(np.maximum(rms, 1e-5))
    frames = np.concatenate([log_mel, mfcc, d1, d2, zcr[:, :n_frames], rms_db[:, :n_frames]])
    out = np.ascontiguousarray(frames.T, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        raise FeatureError("Feature extraction produced non-finite values.")
    return out


def to_windows(frames: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Cut (frames, F) into fixed windows (n, window_frames, F), float32.

    A clip shorter than one window is repeated (wrapped) to fill it, so no window holds
    artificial silence; a longer clip gives half-overlapping windows, the last one aligned
    with the clip's end. Every clip gives at least one window.
    """
    frames = np.asarray(frames, dtype=np.float32)
    size, hop = config.window_frames, config.window_hop_frames
    n = frames.shape[0]
    if n == 0:
        raise FeatureError("No frames.")
    if n <= size:
        reps = -(-size // n)
        return np.tile(frames, (reps, 1))[:size][None, ...]
    starts = list(range(0, n - size + 1, hop))
    if starts[-1] != n - size:
        starts.append(n - size)
    return np.stack([frames[s : s + size] for s in starts]).astype(np.float32)


def inference_windows(samples: np.ndarray, sample_rate: int, config: FeatureConfig) -> np.ndarray:
    """The inference path's features: resample if needed, then the shared feature pipeline."""
    samples = np.asarray(samples, dtype=np.float32)
    if sample_rate != config.sample_rate:
        if samples.ndim != 1 or samples.size == 0:
            raise FeatureError("Expected non-empty mono samples.")
        import soxr

        samples = soxr.resample(samples, sample_rate, config.sample_rate).astype(np.float32)
    return to_windows(frame_features(prepare(samples, config), config), config)


def clip_windows(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """The whole pipeline for one clip: prepare -> frame_features -> to_windows."""
    return to_windows(frame_features(prepare(samples, config), config), config)


def check_sample_rate(sample_rate: int, config: FeatureConfig = DEFAULT_CONFIG) -> None:
    if int(sample_rate) != config.sample_rate:
        raise FeatureError(
            f"Audio must be resampled to {config.sample_rate} Hz first (got {sample_rate} Hz); "
            "core.audio.decode does that."
        )
