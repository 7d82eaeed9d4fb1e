"""Feature windows of a whole dataset: clean, telephone and augmented copies, cached on disk.

Computed once per dataset and settings (the cache key holds the dataset fingerprint and every
setting), so training runs and cross-validation folds reuse them. Plain Python, no Django.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import augment
from core.audio import AudioError, load
from core.emotion.datasets import Clip
from core.emotion.features import FeatureConfig, clip_windows

AUGMENT_VERSION = 1
VARIANT_CLEAN, VARIANT_TELEPHONE = 0, 1  # 2.. are random augmentations


@dataclass
class FeatureSet:
    windows: np.ndarray  # (n_windows, frames, features) float16
    clip_index: np.ndarray  # (n_windows,) index into clips
    variant: np.ndarray  # (n_windows,) 0 clean, 1 telephone, 2.. augmented
    clips: list[Clip]

    def select(self, clip_ids: np.ndarray, variants: Sequence[int]) -> np.ndarray:
        """Indices of windows of the given clips and variants."""
        mask = np.isin(self.clip_index, clip_ids) & np.isin(self.variant, list(variants))
        return np.flatnonzero(mask)


def _clip_seed(seed: int, clip: Clip) -> int:
    return (seed * 1_000_003 + zlib.crc32(clip.path.name.encode())) % (2**32)


def clip_variants(samples: np.ndarray, clip: Clip, config: FeatureConfig, n_augment: int,
                  seed: int) -> list[np.ndarray]:
    """Windows for [clean, telephone, augmented x n_augment] copies of one clip."""
    rng = np.random.default_rng(_clip_seed(seed, clip))
    out = [clip_windows(samples, config), clip_windows(augment.telephone(samples), config)]
    for _ in range(n_augment):
        out.append(clip_windows(augment.random_augment(samples, rng), config))
    return out


def train_variants(n_augment: int) -> list[int]:
    """Variants a model trains on: clean, telephone and the `n_augment` random copies."""
    return list(range(2 + n_augment))


def default_cache_dir() -> Path:
    env = os.environ.get("EMOTION_FEATURE_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "emergency-portal" / "emotion-features"


def compute_features(clips: Sequence[Clip], config: FeatureConfig, *, n_augment: int, seed: int,
                     data_fingerprint: str, cache_dir: Path | None = None,
                     progress: bool = True) -> FeatureSet:
    """All [clean, telephone, random...] variants of every clip, cached in one file."""
    from tqdm import tqdm

    key_src = json.dumps(
        {
            "fp": data_fingerprint,
            "config": config.to_dict(),
            "n_augment": n_augment,
            "seed": seed,
            "augment_version": AUGMENT_VERSION,
            "paths": [c.path.name for c in clips],
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:24]
    cache_path = (cache_dir / f"features-{key}.npz") if cache_dir else None
    if cache_path is not None and cache_path.is_file():
        with np.load(cache_path) as data:
            return FeatureSet(data["windows"], data["clip_index"], data["variant"], list(clips))
    windows, clip_index, variant = [], [], []
    for i, clip in enumerate(tqdm(clips, desc="features", unit="clip", disable=not progress,
                                  file=sys.stderr)):
        try:
            samples = load(clip.path)
        except AudioError as exc:
            raise AudioError(f"{clip.path}: {exc}") from exc
        for v, w in enumerate(clip_variants(samples, clip, config, n_augment, seed)):
            windows.append(w.astype(np.float16))
            clip_index += [i] * len(w)
            variant += [v] * len(w)
    fs = FeatureSet(
        np.concatenate(windows),
        np.asarray(clip_index, dtype=np.int32),
        np.asarray(variant, dtype=np.int8),
        list(clips),
    )
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp.npz")
        np.savez(tmp, windows=fs.windows, clip_index=fs.clip_index, variant=fs.variant)
        os.replace(tmp, cache_path)
    return fs
