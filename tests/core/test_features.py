"""Feature pipeline: shape/dtype contract, windows, and train/inference parity."""

from __future__ import annotations

import numpy as np
import pytest

from core import audio, augment
from core.emotion.datasets import default_ravdess_dir, read_dataset
from core.emotion.features import (
    DEFAULT_CONFIG,
    FeatureConfig,
    FeatureError,
    clip_windows,
    frame_features,
    prepare,
    to_windows,
)

RAVDESS = default_ravdess_dir()
needs_ravdess = pytest.mark.skipif(RAVDESS is None or not RAVDESS.is_dir(),
                                   reason="RAVDESS corpus not available (set RAVDESS_DIR)")


def _clip(name="Actor_01/03-01-05-02-01-01-01.flac"):
    return RAVDESS / name


@needs_ravdess
def test_clip_windows_contract_on_real_clip():
    samples = audio.load(_clip())
    windows = clip_windows(samples)
    assert windows.dtype == np.float32
    assert windows.ndim == 3
    assert windows.shape[1:] == (DEFAULT_CONFIG.window_frames, DEFAULT_CONFIG.n_features)
    assert windows.shape[0] >= 1
    assert np.all(np.isfinite(windows))
    frames = frame_features(prepare(samples))
    assert frames.shape[1] == DEFAULT_CONFIG.n_features == len(DEFAULT_CONFIG.feature_names())
    # Trimming removed RAVDESS's leading silence: fewer frames than the raw clip would give.
    assert frames.shape[0] < len(samples) / DEFAULT_CONFIG.hop_length


def test_prepare_trims_and_normalises():
    sr = 16_000
    t = np.arange(sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    padded = np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(sr, np.float32)])
    out = prepare(padded)
    assert out.dtype == np.float32
    assert abs(len(out) - sr) < 0.1 * sr
    assert audio.rms(out) == pytest.approx(DEFAULT_CONFIG.target_rms, rel=0.02)


@pytest.mark.parametrize("bad", [np.zeros(0, np.float32), np.full(1000, np.nan, np.float32),
                                 np.zeros((2, 1000), np.float32)])
def test_prepare_rejects_unusable_samples(bad):
    with pytest.raises(FeatureError):
        prepare(bad)


def test_to_windows_wraps_short_and_overlaps_long():
    cfg = DEFAULT_CONFIG
    short = np.arange(50 * cfg.n_features, dtype=np.float32).reshape(50, cfg.n_features)
    w = to_windows(short, cfg)
    assert w.shape == (1, cfg.window_frames, cfg.n_features)
    np.testing.assert_array_equal(w[0, 50:100], short)  # wrapped, not zero-padded
    n = cfg.window_frames * 2 + 7
    long = np.random.default_rng(0).standard_normal((n, cfg.n_features)).astype(np.float32)
    w = to_windows(long, cfg)
    np.testing.assert_array_equal(w[0], long[: cfg.window_frames])
    np.testing.assert_array_equal(w[-1], long[-cfg.window_frames:])  # the end is covered
    assert len(w) == 4  # starts 0, 80, 160 and 167 (end-aligned)


def test_short_and_constant_audio_still_gives_finite_features():
    for samples in (np.full(16_000, 1e-3, np.float32), np.full(100, 0.1, np.float32)):
        w = clip_windows(samples)
        assert w.shape[1:] == (DEFAULT_CONFIG.window_frames, DEFAULT_CONFIG.n_features)
        assert np.all(np.isfinite(w))


def test_feature_config_round_trip_and_unknown_settings():
    cfg = FeatureConfig.from_dict(DEFAULT_CONFIG.to_dict())
    assert cfg == DEFAULT_CONFIG
    with pytest.raises(FeatureError):
        FeatureConfig.from_dict({**DEFAULT_CONFIG.to_dict(), "n_chroma": 12})
    bad = DEFAULT_CONFIG.to_dict()
    del bad["n_mels"]
    with pytest.raises(FeatureError):
        FeatureConfig.from_dict(bad)


@needs_ravdess
def test_train_and_inference_paths_give_identical_features():
    """The training pipeline's clean variant equals what the classifier computes."""
    from core.emotion.classifier import inference_windows
    from core.emotion.training import clip_variants

    clip = next(c for c in read_dataset(RAVDESS) if c.path.name == _clip().name)
    train_windows = clip_variants(audio.load(clip.path), clip, DEFAULT_CONFIG, 0, seed=1)[0]
    # Inference decodes with PyAV (any format) instead of soundfile: same samples, same features.
    decoded = audio.decode(clip.path).samples
    infer_windows = inference_windows(decoded, 16_000, DEFAULT_CONFIG)
    np.testing.assert_allclose(infer_windows, train_windows, rtol=0, atol=1e-4)


@needs_ravdess
def test_telephone_channel_is_band_limited():
    samples = audio.load(_clip())
    tel = augment.telephone(samples)
    assert tel.dtype == np.float32 and abs(len(tel) - len(samples)) <= 2
    spec = np.abs(np.fft.rfft(tel)) ** 2
    freqs = np.fft.rfftfreq(len(tel), 1 / 16_000)
    orig = np.abs(np.fft.rfft(samples)) ** 2
    high = freqs > 4200
    assert spec[high].sum() / spec.sum() < 0.01 * max(orig[high].sum() / orig.sum(), 1e-9) + 1e-4
    assert spec[freqs < 150].sum() / spec.sum() < 0.01


def test_noise_snr_and_seeded_augmentation_are_reproducible():
    rng = np.random.default_rng(1)
    x = (0.1 * np.sin(2 * np.pi * 300 * np.arange(16_000) / 16_000)).astype(np.float32)
    noisy = augment.add_noise(x, 10.0, rng)
    snr = 10 * np.log10(np.mean(x**2) / np.mean((noisy - x) ** 2))
    assert snr == pytest.approx(10.0, abs=0.5)
    a = augment.random_augment(x, np.random.default_rng(7))
    b = augment.random_augment(x, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    mu = augment.mu_law_roundtrip(x)
    assert np.max(np.abs(mu - x)) < 0.01


def _glide(f_start: float, f_end: float, seconds: float = 2.0, sr: int = 16_000) -> np.ndarray:
    """A harmonic-rich voice-like tone whose pitch moves from f_start to f_end (geometric)."""
    t = np.arange(int(seconds * sr)) / sr
    f = f_start * (f_end / f_start) ** (t / seconds)
    phase = 2 * np.pi * np.cumsum(f) / sr
    return (0.2 * sum(np.sin(k * phase) / k for k in range(1, 6))).astype(np.float32)


def test_pitch_columns_follow_intonation_relative_to_the_speakers_own_median():
    from core.emotion.features import pitch_frames

    config = FeatureConfig(pitch_features=True)
    low, high = pitch_frames(_glide(100, 200), config), pitch_frames(_glide(200, 400), config)
    # A man's and a woman's voice rising by the same octave give the same relative contour.
    for rel in (low[0], high[0]):
        assert rel[5] == pytest.approx(-6, abs=1.0) and rel[-6] == pytest.approx(6, abs=1.0)
    np.testing.assert_allclose(low[0][5:-5], high[0][5:-5], atol=1.0)
    assert np.median(low[1]) > 0.9  # periodic
    noise = np.random.default_rng(0).standard_normal(32_000).astype(np.float32) * 0.1
    unvoiced = pitch_frames(noise, config)
    assert np.median(unvoiced[1]) < 0.5 and np.mean(unvoiced[0] == 0) > 0.8


def test_pitch_features_extend_frames_and_old_metadata_means_off():
    config = FeatureConfig(pitch_features=True)
    samples = _glide(120, 180)
    frames = frame_features(samples, config)
    base = frame_features(samples, DEFAULT_CONFIG)
    assert frames.shape == (base.shape[0], DEFAULT_CONFIG.n_features + 2) == (
        base.shape[0], config.n_features)
    np.testing.assert_array_equal(frames[:, : base.shape[1]], base)
    assert config.feature_names()[-2:] == ["f0_rel_semitones", "periodicity"]
    # Metadata written before the pitch settings existed loads as "no pitch columns".
    old = {k: v for k, v in DEFAULT_CONFIG.to_dict().items()
           if k not in ("pitch_features", "f0_min", "f0_max")}
    assert FeatureConfig.from_dict(old) == DEFAULT_CONFIG
    assert FeatureConfig.from_dict(config.to_dict()) == config


def _vowel(f0: float, formant_scale: float, seconds: float = 1.5, sr: int = 16_000) -> np.ndarray:
    """A steady vowel: harmonics of f0 shaped by three formants (500/1500/2500 Hz x scale)."""
    t = np.arange(int(seconds * sr)) / sr
    formants = np.array([500.0, 1500.0, 2500.0]) * formant_scale
    x = np.zeros_like(t)
    for k in range(1, int(7000 // f0)):
        amp = np.exp(-(((k * f0) - formants) / 150.0) ** 2).sum() + 0.01
        x += amp * np.sin(2 * np.pi * k * f0 * t)
    return (0.1 * x / np.abs(x).max()).astype(np.float32)


def test_warped_mel_filters_move_by_the_warp_and_none_falls_off_the_spectrum():
    from core.emotion.features import _mel_basis, warped_mel_basis

    basis = _mel_basis(DEFAULT_CONFIG)
    assert warped_mel_basis(basis, 1.0) is basis
    bin_hz = DEFAULT_CONFIG.sample_rate / DEFAULT_CONFIG.n_fft
    for warp in (0.8, 1.25):
        warped = warped_mel_basis(basis, warp)
        assert warped.shape == basis.shape and warped.dtype == np.float32
        assert np.all(warped.sum(axis=1) > 0)  # even the top filters still read something
        for row in (20, 30):  # below the knee the warp is linear
            assert warped[row].argmax() * bin_hz == pytest.approx(
                warp * basis[row].argmax() * bin_hz, abs=1.5 * bin_hz)


def test_vtln_puts_a_low_and_a_high_voice_on_the_same_formant_bands():
    from core.emotion.features import vtln_warp

    config = FeatureConfig(vtln_strength=0.3)
    man, woman = _vowel(110, 1.0), _vowel(200, 1.17)  # a shorter vocal tract: formants +17 %
    assert vtln_warp(man, config) < 0.9 < 1.0 < vtln_warp(woman, config)
    noise = np.random.default_rng(0).standard_normal(24_000).astype(np.float32) * 0.1
    assert vtln_warp(noise, config) == 1.0  # nothing voiced: no warp

    def envelope_gap(cfg):  # MFCCs 1-12 describe the spectral envelope (the formants)
        a, b = frame_features(man, cfg), frame_features(woman, cfg)
        start = cfg.n_mels + 1
        return np.abs(a[:, start:start + 12].mean(0) - b[:, start:start + 12].mean(0)).mean()

    assert envelope_gap(config) < 0.6 * envelope_gap(DEFAULT_CONFIG)
    # Metadata written before VTLN existed loads as "off".
    old = {k: v for k, v in DEFAULT_CONFIG.to_dict().items() if not k.startswith("vtln")}
    assert FeatureConfig.from_dict(old) == DEFAULT_CONFIG


def test_vtln_warp_column_keeps_the_voices_pitch_level():
    from core.emotion.features import vtln_warp

    warped = FeatureConfig(vtln_strength=0.3)
    with_column = FeatureConfig(vtln_strength=0.3, vtln_warp_column=True)
    voice = _vowel(120, 1.0)
    frames = frame_features(voice, with_column)
    assert frames.shape[1] == with_column.n_features == DEFAULT_CONFIG.n_features + 1
    np.testing.assert_array_equal(frames[:, :-1], frame_features(voice, warped))
    np.testing.assert_allclose(frames[:, -1], np.log2(vtln_warp(voice, warped)), rtol=1e-5)
    with pytest.raises(FeatureError, match="needs vtln_strength"):
        FeatureConfig(vtln_warp_column=True)
    with pytest.raises(FeatureError, match="0..1"):
        FeatureConfig(vtln_strength=-0.1)
