"""Load a model version's classifier once per process, whatever its kind.

Every classifier gives ``classify(samples) -> EmotionPrediction``, ``labels``, ``version`` and
``metadata``. Plain Python: no Django.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.emotion.model_version import SAMPLE_RATE, read_metadata
from core.emotion.prediction import EmotionPrediction


class Classifier(Protocol):
    model_dir: Path
    version: str
    labels: list[str]
    metadata: dict[str, Any]

    def classify(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> EmotionPrediction: ...


_CACHE: dict[Path, Classifier] = {}
_LOCK = threading.Lock()


def load_classifier(model_dir: str | Path) -> Classifier:
    """The classifier for `model_dir`, loaded and checked once per process (thread-safe)."""
    key = Path(model_dir).resolve()
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _load(key)
            _CACHE[key] = cached
        return cached


def _load(model_dir: Path) -> Classifier:
    if read_metadata(model_dir)["model_kind"] == "whisper_encoder":
        from core.emotion.encoder_classifier import EncoderClassifier

        return EncoderClassifier(model_dir)
    from core.emotion.cnn_classifier import CnnClassifier

    return CnnClassifier(model_dir)


def clear_cache() -> None:
    """Forget loaded classifiers (tests, or after a model version is replaced on disk)."""
    with _LOCK:
        _CACHE.clear()
