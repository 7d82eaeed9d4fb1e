"""Training-only audio augmentation (never used at inference).

All functions take and return mono float32 samples at `sample_rate` and draw randomness only
from the `numpy.random.Generator` they are given, so a seeded run is reproducible.
The telephone channel imitates a narrowband 112 call: resample to 8 kHz, band-limit to
300-3400 Hz, G.711 mu-law encode/decode, and back to 16 kHz.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from core.audio import TARGET_SAMPLE_RATE

SNRS_DB = (5.0, 10.0, 20.0)
MU = 255.0


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator, *,
              colour: str = "white") -> np.ndarray:
    """Add white or pink-ish noise at the given signal-to-noise ratio (dB)."""
    samples = np.asarray(samples, dtype=np.float32)
    power = float(np.mean(np.square(samples, dtype=np.float64)))
    if power <= 0:
        return samples.copy()
    noise = rng.standard_normal(samples.size)
    if colour == "pink":
        spectrum = np.fft.rfft(noise)
        freqs = np.arange(spectrum.size, dtype=np.float64)
        freqs[0] = 1.0
        noise = np.fft.irfft(spectrum / np.sqrt(freqs), n=samples.size)
    noise_power = float(np.mean(np.square(noise))) or 1.0
    scale = np.sqrt(power / (noise_power * 10 ** (snr_db / 10.0)))
    noisy: np.ndarray = np.clip(samples + scale * noise, -1.0, 1.0).astype(np.float32)
    return noisy


def pitch_shift(samples: np.ndarray, semitones: float,
                sample_rate: int = TARGET_SAMPLE_RATE) -> np.ndarray:
    import librosa

    shifted: np.ndarray = librosa.effects.pitch_shift(
        np.asarray(samples, dtype=np.float32), sr=sample_rate, n_steps=semitones, res_type="soxr_hq"
    ).astype(np.float32)
    return shifted


def time_stretch(samples: np.ndarray, rate: float) -> np.ndarray:
    import librosa

    stretched: np.ndarray = librosa.effects.time_stretch(
        np.asarray(samples, dtype=np.float32), rate=rate
    ).astype(np.float32)
    return stretched


def speed_perturb(samples: np.ndarray, factor: float) -> np.ndarray:
    """Speak `factor` times as fast, tempo and pitch together (Kaldi's speed perturbation): the clip
    resampled by 1/factor and played at the same rate, as a speaker with a shorter (factor > 1) or
    longer vocal tract and another pace would say it."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"speed factor {factor} outside 0.5..2")
    ratio = Fraction(factor).limit_denominator(100)
    out: np.ndarray = resample_poly(np.asarray(samples, dtype=np.float32), ratio.denominator, ratio.numerator)
    return out.astype(np.float32)


def shift(samples: np.ndarray, max_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Circularly shift by up to +-max_fraction of the clip's length."""
    limit = int(len(samples) * max_fraction)
    if limit <= 0:
        return np.asarray(samples, dtype=np.float32).copy()
    return np.roll(np.asarray(samples, dtype=np.float32), int(rng.integers(-limit, limit + 1)))


def mu_law_roundtrip(samples: np.ndarray) -> np.ndarray:
    """G.711 mu-law: compress, quantise to 8 bits, expand."""
    x = np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0)
    compressed = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    quantised = np.round((compressed + 1.0) / 2.0 * 255.0) / 255.0 * 2.0 - 1.0
    expanded: np.ndarray = np.sign(quantised) * ((1.0 + MU) ** np.abs(quantised) - 1.0) / MU
    return expanded.astype(np.float32)


def telephone(samples: np.ndarray, sample_rate: int = TARGET_SAMPLE_RATE) -> np.ndarray:
    """Narrowband telephone channel: 8 kHz, 300-3400 Hz band, mu-law, back to `sample_rate`."""
    import soxr
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(samples, dtype=np.float32)
    narrow = soxr.resample(x, sample_rate, 8000, quality="HQ")
    sos = butter(6, [300.0, 3400.0], btype="bandpass", fs=8000, output="sos")
    if narrow.size > 3 * 2 * sos.shape[0]:
        narrow = sosfiltfilt(sos, narrow).astype(np.float32)
    narrow = mu_law_roundtrip(narrow)
    wide: NDArray[np.float32] = soxr.resample(narrow, 8000, sample_rate, quality="HQ").astype(np.float32)
    return np.clip(wide, -1.0, 1.0)


def random_augment(samples: np.ndarray, rng: np.random.Generator,
                   sample_rate: int = TARGET_SAMPLE_RATE, *, p_telephone: float = 0.5,
                   p_pitch: float = 0.4, p_stretch: float = 0.3, p_noise: float = 0.6,
                   p_shift: float = 0.5) -> np.ndarray:
    """One random chain of augmentations, the same order every time (reproducible per rng)."""
    x = np.asarray(samples, dtype=np.float32)
    if rng.random() < p_pitch:
        x = pitch_shift(x, float(rng.uniform(-2.0, 2.0)), sample_rate)
    if rng.random() < p_stretch:
        x = time_stretch(x, float(rng.uniform(0.85, 1.15)))
    if rng.random() < p_shift:
        x = shift(x, 0.1, rng)
    if rng.random() < p_noise:
        x = add_noise(x, float(rng.choice(SNRS_DB)), rng,
                      colour="pink" if rng.random() < 0.5 else "white")
    if rng.random() < p_telephone:
        x = telephone(x, sample_rate)
    return x.astype(np.float32)
