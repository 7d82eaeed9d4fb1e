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

from dataclasses import asdict, dataclass, fields

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
    # Two prosody columns (see pitch_frames): the voice's pitch relative to the speaker's own
    # median, and how periodic (voiced) each frame is.
    pitch_features: bool = False
    f0_min: float = 60.0
    f0_max: float = 500.0
    # Vocal-tract-length normalisation (see vtln_warp): 0 = off; 0.3 moves the formants of a
    # typical man's and woman's voice onto the same mel bands.
    vtln_strength: float = 0.0
    vtln_ref_f0: float = 190.0
    # One more column holding log2 of the clip's warp, so the voice's overall pitch level
    # (raised by anger and fear as much as by a short vocal tract) is not lost to the warp.
    vtln_warp_column: bool = False
    feature_version: int = FEATURE_VERSION

    def __post_init__(self) -> None:
        if not 0.0 <= self.vtln_strength <= 1.0:
            raise FeatureError(f"vtln_strength must be within 0..1, got {self.vtln_strength}.")
        if self.vtln_warp_column and not self.vtln_strength:
            raise FeatureError("vtln_warp_column needs vtln_strength > 0.")

    @property
    def n_features(self) -> int:
        return (self.n_mels + 3 * self.n_mfcc + 2 + (2 if self.pitch_features else 0)
                + (1 if self.vtln_warp_column else 0))

    def feature_names(self) -> list[str]:
        names = [f"logmel_{i}" for i in range(self.n_mels)]
        for prefix in ("mfcc", "mfcc_d1", "mfcc_d2"):
            names += [f"{prefix}_{i}" for i in range(self.n_mfcc)]
        names += ["zcr", "rms_db"]
        names += ["f0_rel_semitones", "periodicity"] if self.pitch_features else []
        return names + (["vtln_log2_warp"] if self.vtln_warp_column else [])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FeatureConfig:
        known = {f.name for f in fields(cls)}
        # Settings added after the first models shipped; older metadata means "off".
        data = {**_ADDED_LATER, **data}
        unknown = set(data) - known
        if unknown:
            raise FeatureError(f"Unknown feature settings: {sorted(unknown)}")
        missing = known - set(data)
        if missing:
            raise FeatureError(f"Missing feature settings: {sorted(missing)}")
        return cls(**data)


VOICED_PERIODICITY = 0.6  # frames above count as voiced (their f0 is trusted)
VTLN_MAX_WARP = 1.25  # a warp factor is kept within [1 / 1.25, 1.25]
_ADDED_LATER = {"pitch_features": False, "f0_min": 60.0, "f0_max": 500.0,
                "vtln_strength": 0.0, "vtln_ref_f0": 190.0, "vtln_warp_column": False}
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


_MEL_CACHE: dict[tuple, np.ndarray] = {}


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
    basis = _mel_basis(config)
    # yin is the slowest step here: run it once for both settings that need it.
    pitch = (f0_periodicity(samples, config)
             if config.pitch_features or config.vtln_strength else None)
    warp = _warp_from_pitch(*pitch, config) if config.vtln_strength else 1.0
    if warp != 1.0:
        basis = warped_mel_basis(basis, warp, config)
    mel = basis @ power
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
    columns = [log_mel, mfcc, d1, d2, zcr[:, :n_frames], rms_db[:, :n_frames]]
    if config.pitch_features:
        columns.append(_pitch_columns(*pitch, len(samples), config)[:, :n_frames])
    if config.vtln_warp_column:
        columns.append(np.full((1, n_frames), np.log2(warp), dtype=np.float32))
    frames = np.concatenate(columns)
    out = np.ascontiguousarray(frames.T, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        raise FeatureError("Feature extraction produced non-finite values.")
    return out


def pitch_frames(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """(2, frames): f0 in semitones from the clip's median voiced f0 (0 when unvoiced), and
    periodicity (normalised autocorrelation at the f0 period, 0..1).

    The STFT frame (n_fft = 32 ms) barely resolves the harmonics of a low male voice, so the
    log-mel shows a woman's intonation more clearly than a man's. Pitch relative to the caller's
    own median carries the intonation of both alike and nothing of the voice's register.
    """
    return _pitch_columns(*f0_periodicity(samples, config), len(samples), config)


def _pitch_columns(f0: np.ndarray, periodicity: np.ndarray, n_samples: int,
                   config: FeatureConfig) -> np.ndarray:
    n_frames = 1 + n_samples // config.hop_length
    voiced = periodicity > VOICED_PERIODICITY
    rel = np.zeros(f0.size, dtype=np.float32)
    if voiced.any():
        semitones = 12.0 * np.log2(f0)
        rel = np.where(voiced, np.clip(semitones - np.median(semitones[voiced]), -12, 12), 0.0)
    out = np.zeros((2, n_frames), dtype=np.float32)
    out[0, : rel.size] = rel
    out[1, : periodicity.size] = periodicity
    return out


def f0_periodicity(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per frame (hop_length steps): f0 in Hz (librosa.yin) and its periodicity, 0..1."""
    import librosa

    sr, hop = config.sample_rate, config.hop_length
    frame = 2 ** int(np.ceil(np.log2(2.2 * sr / config.f0_min)))  # >= 2 periods of f0_min
    n_frames = 1 + len(samples) // hop
    f0 = librosa.yin(samples, fmin=config.f0_min, fmax=config.f0_max, sr=sr,
                     frame_length=frame, hop_length=hop, center=True)[:n_frames]
    padded = np.pad(samples, frame // 2)
    if padded.size < frame:
        padded = np.pad(padded, (0, frame - padded.size))
    frames = librosa.util.frame(padded, frame_length=frame, hop_length=hop)[:, : f0.size]
    f0 = f0[: frames.shape[1]]
    max_lag = int(np.ceil(sr / config.f0_min))
    width = frame - max_lag
    lag = np.clip(np.rint(sr / f0).astype(int), 1, max_lag)
    rows = np.arange(width)[:, None]
    cols = np.arange(frames.shape[1])[None, :]
    a, b = frames[rows, cols], frames[rows + lag[None, :], cols]
    denom = np.sqrt(np.sum(a * a, axis=0) * np.sum(b * b, axis=0))
    periodicity = np.clip(np.sum(a * b, axis=0) / np.maximum(denom, 1e-9), 0.0, 1.0)
    return f0, periodicity


def vtln_warp(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> float:
    """The clip's frequency warp factor: (median voiced f0 / vtln_ref_f0) ** vtln_strength.

    Higher voices come from shorter vocal tracts whose formants sit higher; reading the
    spectrum at frequencies scaled by this factor puts a man's and a woman's formants in the
    same mel bands. It uses only the audio, never a gender label. 1.0 when nothing is voiced.
    """
    return _warp_from_pitch(*f0_periodicity(samples, config), config)


def _warp_from_pitch(f0: np.ndarray, periodicity: np.ndarray, config: FeatureConfig) -> float:
    voiced = f0[periodicity > VOICED_PERIODICITY]
    if voiced.size == 0:
        return 1.0
    warp = (float(np.median(voiced)) / config.vtln_ref_f0) ** config.vtln_strength
    return float(np.clip(warp, 1.0 / VTLN_MAX_WARP, VTLN_MAX_WARP))


def warped_mel_basis(basis: np.ndarray, warp: float, config: FeatureConfig = DEFAULT_CONFIG
                     ) -> np.ndarray:
    """The mel filters moved by `warp`: a filter centred on f now reads around warp * f.

    The warp is piecewise linear (as Kaldi's VTLN): warp * f up to a knee, then a straight
    line to the Nyquist frequency, so no filter falls off the top of the spectrum. Dividing
    by the warp keeps a flat spectrum's energies unchanged as the filters widen.
    """
    if warp == 1.0:
        return basis
    nyquist = config.sample_rate / 2.0
    n_bins = basis.shape[1]
    knee = 0.8 * nyquist / max(warp, 1.0)
    # For each FFT bin, the frequency of the unwarped axis it corresponds to.
    source_hz = np.interp(np.linspace(0.0, nyquist, n_bins),
                          [0.0, warp * knee, nyquist], [0.0, knee, nyquist])
    position = source_hz / nyquist * (n_bins - 1)
    low = np.minimum(position.astype(int), n_bins - 2)
    frac = (position - low).astype(np.float32)
    warped = basis[:, low] * (1.0 - frac) + basis[:, low + 1] * frac
    return (warped / warp).astype(np.float32)


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


def clip_windows(samples: np.ndarray, config: FeatureConfig = DEFAULT_CONFIG) -> np.ndarray:
    """The whole pipeline for one clip: prepare -> frame_features -> to_windows."""
    return to_windows(frame_features(prepare(samples, config), config), config)


def check_sample_rate(sample_rate: int, config: FeatureConfig = DEFAULT_CONFIG) -> None:
    if int(sample_rate) != config.sample_rate:
        raise FeatureError(
            f"Audio must be resampled to {config.sample_rate} Hz first (got {sample_rate} Hz); "
            "core.audio.decode does that."
        )
