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
    from core.emotion.feature_sets import clip_variants
    from core.emotion.features import inference_windows

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


def test_metadata_naming_retired_settings_loads_only_while_they_are_off():
    # The shipped model's metadata predates their removal and names them, switched off.
    with_retired = {**DEFAULT_CONFIG.to_dict(), "pitch_features": False, "f0_min": 60.0, "f0_max": 500.0,
                    "vtln_strength": 0.0, "vtln_ref_f0": 190.0, "vtln_warp_column": False}
    assert FeatureConfig.from_dict(with_retired) == DEFAULT_CONFIG
    for switch, on in (("pitch_features", True), ("vtln_strength", 0.3), ("vtln_warp_column", True)):
        with pytest.raises(FeatureError, match=f"retired feature setting '{switch}'"):
            FeatureConfig.from_dict({**with_retired, switch: on})
    with pytest.raises(FeatureError, match="Unknown feature settings"):
        FeatureConfig.from_dict({**DEFAULT_CONFIG.to_dict(), "colour": "blue"})
