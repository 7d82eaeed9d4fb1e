"""The gender-gap diagnostics' helpers (benchmarks/emotion_cv.py, benchmarks/emotion_gap.py)."""

from __future__ import annotations

import numpy as np

from benchmarks.emotion_cv import speaker_normalised
from benchmarks.emotion_gap import actor_gap, clip_statistics
from core.emotion.feature_sets import FeatureSet


def _feature_set(rng: np.random.Generator) -> tuple[FeatureSet, np.ndarray]:
    """Four clips of two speakers with very different offsets and scales, two variants each,
    two windows of 5 frames x 3 features per clip and variant."""
    speakers = np.array(["01", "01", "02", "02"])
    offset = {"01": np.array([-40.0, 5.0, 0.0]), "02": np.array([10.0, 50.0, -7.0])}
    scale = {"01": 1.0, "02": 9.0}
    windows, clip_index, variant = [], [], []
    for clip, spk in enumerate(speakers):
        for v in (0, 1):
            for _ in range(2):
                windows.append(offset[spk] + v * 3 + scale[spk] * rng.normal(size=(5, 3)))
                clip_index.append(clip)
                variant.append(v)
    fs = FeatureSet(np.asarray(windows, dtype=np.float16), np.asarray(clip_index, np.int32),
                    np.asarray(variant, np.int8), clips=[])
    return fs, speakers


def test_speaker_normalised_standardises_each_speaker_and_variant_on_its_own():
    fs, speakers = _feature_set(np.random.default_rng(0))
    out = speaker_normalised(fs, speakers)
    assert out.windows.shape == fs.windows.shape and out.windows.dtype == fs.windows.dtype
    owner = speakers[fs.clip_index]
    for spk in ("01", "02"):
        for v in (0, 1):
            w = out.windows[(owner == spk) & (fs.variant == v)].astype(np.float32)
            np.testing.assert_allclose(w.mean(axis=(0, 1)), 0, atol=0.01)
            np.testing.assert_allclose(w.std(axis=(0, 1)), 1, atol=0.01)
    # The input is untouched and the clip and variant bookkeeping is carried over.
    assert abs(float(fs.windows[owner == "02"].astype(np.float32).mean())) > 5
    assert out.clip_index is fs.clip_index and out.variant is fs.variant


def test_clip_statistics_are_mean_and_std_of_the_clean_frames_of_each_clip():
    fs, _ = _feature_set(np.random.default_rng(1))
    stats = clip_statistics(fs, n_clips=4)
    assert stats.shape == (4, 6)
    for clip in range(4):
        frames = fs.windows[(fs.clip_index == clip) & (fs.variant == 0)].astype(np.float32)
        frames = frames.reshape(-1, 3)
        np.testing.assert_allclose(stats[clip, :3], frames.mean(axis=0), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(stats[clip, 3:], frames.std(axis=0), rtol=1e-5, atol=1e-4)


def test_actor_gap_interval_and_test_separate_a_real_gap_from_none():
    rng = np.random.default_rng(2)
    apart = {f"f{i}": ("female", 0.70 + rng.normal(0, 0.03)) for i in range(12)}
    apart |= {f"m{i}": ("male", 0.50 + rng.normal(0, 0.03)) for i in range(12)}
    gap = actor_gap(apart)
    assert gap["actors"] == {"female": 12, "male": 12}
    assert 0.17 < gap["gap"] < 0.23
    assert 0.1 < gap["ci95"][0] < gap["gap"] < gap["ci95"][1] < 0.3
    assert gap["mann_whitney_p"] < 0.001

    values = rng.uniform(0.3, 0.9, 12)
    same = {f"f{i}": ("female", v) for i, v in enumerate(values)}
    same |= {f"m{i}": ("male", v) for i, v in enumerate(values)}
    gap = actor_gap(same)
    assert gap["gap"] == 0 and gap["ci95"][0] < 0 < gap["ci95"][1]
    assert gap["mann_whitney_p"] > 0.9
