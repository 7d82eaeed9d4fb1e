"""Speech emotion classifier: load a model version once per process and classify audio.

A model version is a folder holding ``model.keras`` and ``metadata.json`` (labels, feature
settings, sample rate, the model file's sha256, training data fingerprint, metrics). Loading
checks all of it against this code; a missing, corrupt or mismatched model raises
:class:`ModelError` with a clear message, never a silent wrong answer.

TensorFlow is imported lazily, inside :func:`load_classifier`. Plain Python: no Django.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.emotion.features import (
    FEATURE_VERSION,
    FeatureConfig,
    FeatureError,
    frame_features,
    prepare,
    to_windows,
)
from core.emotion.prediction import EmotionPrediction
from core.emotion.tensorflow_setup import configure_tensorflow

METADATA_FILE = "metadata.json"
MODEL_FILE = "model.keras"
CONFUSION_FILE = "confusion.png"
METADATA_SCHEMA = 1
SAMPLE_RATE = 16_000
INFER_CHUNK = 256  # windows per model call in a batch


class ModelError(RuntimeError):
    """The emotion model is missing, corrupt, or does not match this code."""


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_metadata(model_dir: str | Path) -> dict[str, Any]:
    """Read and check a model version's metadata against this code; raise ModelError."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"Emotion model folder not found: {model_dir}")
    meta_path = model_dir / METADATA_FILE
    if not meta_path.is_file():
        raise ModelError(f"Emotion model metadata missing: {meta_path}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"Emotion model metadata is unreadable: {meta_path} ({exc})") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"Emotion model metadata is not a JSON object: {meta_path}")
    if meta.get("schema") != METADATA_SCHEMA:
        raise ModelError(
            f"Emotion model metadata schema {meta.get('schema')!r} is not the supported "
            f"{METADATA_SCHEMA} ({meta_path})"
        )
    labels = meta.get("labels")
    if (
        not isinstance(labels, list)
        or len(labels) < 2
        or not all(isinstance(lab, str) and lab for lab in labels)
        or len(set(labels)) != len(labels)
    ):
        raise ModelError(f"Emotion model labels are missing or invalid: {labels!r}")
    if meta.get("sample_rate") != SAMPLE_RATE:
        raise ModelError(
            f"Emotion model expects {meta.get('sample_rate')!r} Hz audio; this code feeds "
            f"{SAMPLE_RATE} Hz."
        )
    settings = meta.get("feature_config")
    if not isinstance(settings, dict):
        raise ModelError("Emotion model metadata has no feature settings.")
    try:
        config = FeatureConfig.from_dict(settings)
    except (FeatureError, TypeError) as exc:
        raise ModelError(f"Emotion model feature settings do not match this code: {exc}") from exc
    if config.feature_version != FEATURE_VERSION:
        raise ModelError(
            f"Emotion model was trained with feature version {config.feature_version}; this "
            f"code computes version {FEATURE_VERSION}. Retrain the model."
        )
    if config.sample_rate != SAMPLE_RATE:
        raise ModelError(f"Emotion model feature sample rate {config.sample_rate} != {SAMPLE_RATE}")
    if not isinstance(meta.get("version"), str) or not meta["version"]:
        raise ModelError("Emotion model metadata has no version name.")
    if not isinstance(meta.get("model_sha256"), str):
        raise ModelError("Emotion model metadata has no model_sha256.")
    return meta


def inference_windows(samples: np.ndarray, sample_rate: int, config: FeatureConfig) -> np.ndarray:
    """The inference path's features: resample if needed, then the shared feature pipeline."""
    samples = np.asarray(samples, dtype=np.float32)
    if sample_rate != config.sample_rate:
        if samples.ndim != 1 or samples.size == 0:
            raise FeatureError("Expected non-empty mono samples.")
        import soxr

        samples = soxr.resample(samples, sample_rate, config.sample_rate).astype(np.float32)
    return to_windows(frame_features(prepare(samples, config), config), config)


class EmotionClassifier:
    """A loaded, checked model version. Use :func:`load_classifier` (cached) to get one."""

    def __init__(self, model_dir: str | Path):
        self.model_dir = Path(model_dir).resolve()
        meta = read_metadata(self.model_dir)
        self.metadata = meta
        self.version: str = meta["version"]
        self.labels: list[str] = list(meta["labels"])
        self.config = FeatureConfig.from_dict(meta["feature_config"])
        model_path = self.model_dir / meta.get("model_file", MODEL_FILE)
        if not model_path.is_file():
            raise ModelError(f"Emotion model file missing: {model_path}")
        if sha256_file(model_path) != meta["model_sha256"]:
            raise ModelError(
                f"Emotion model file {model_path} does not match the sha256 in its metadata "
                "(corrupt or replaced)."
            )
        configure_tensorflow()
        import keras
        import tensorflow as tf

        try:
            model = keras.saving.load_model(model_path, compile=False)
        except Exception as exc:  # keras raises many types for a bad file
            raise ModelError(f"Emotion model file cannot be loaded: {model_path} ({exc})") from exc
        expected_in = (self.config.window_frames, self.config.n_features)
        if tuple(model.input_shape[1:]) != expected_in:
            raise ModelError(
                f"Emotion model input {tuple(model.input_shape[1:])} does not match the feature "
                f"settings {expected_in}."
            )
        if model.output_shape[-1] != len(self.labels):
            raise ModelError(
                f"Emotion model has {model.output_shape[-1]} outputs but its metadata lists "
                f"{len(self.labels)} labels."
            )
        self.model = model
        spec = tf.TensorSpec(shape=(None, *expected_in), dtype=tf.float32)
        self._infer = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        # Warm up: trace the function and compile librosa's numba code once, at load time.
        self._infer(tf.zeros((1, *expected_in), tf.float32))
        rng = np.random.default_rng(0)
        self.windows(rng.standard_normal(SAMPLE_RATE // 2).astype(np.float32) * 0.1)

    # -- features -----------------------------------------------------------------------
    def windows(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """Model input windows for one clip (raises FeatureError for unusable audio)."""
        return inference_windows(samples, sample_rate, self.config)

    # -- inference ----------------------------------------------------------------------
    def predict_windows(self, windows: np.ndarray) -> np.ndarray:
        """Softmax outputs (n, labels) for windows (n, frames, features)."""
        windows = np.asarray(windows, dtype=np.float32)
        outs = []
        for start in range(0, len(windows), INFER_CHUNK):
            outs.append(self._infer(windows[start : start + INFER_CHUNK]).numpy())
        return np.concatenate(outs) if outs else np.zeros((0, len(self.labels)), np.float32)

    def _prediction(self, probs: np.ndarray, seconds: float) -> EmotionPrediction:
        probs = np.asarray(probs, dtype=np.float64)
        probs = probs / probs.sum()
        return EmotionPrediction(
            label=self.labels[int(np.argmax(probs))],
            probabilities={lab: float(p) for lab, p in zip(self.labels, probs, strict=True)},
            model_version=self.version,
            seconds=round(seconds, 6),
        )

    def classify(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> EmotionPrediction:
        start = time.perf_counter()
        probs = self.predict_windows(self.windows(samples, sample_rate)).mean(axis=0)
        return self._prediction(probs, time.perf_counter() - start)

    def classify_windows(
        self, windows_list: Sequence[np.ndarray], feature_seconds: Sequence[float] | None = None
    ) -> list[EmotionPrediction]:
        """Classify clips already turned into windows, in one batched pass over the model."""
        if not windows_list:
            return []
        counts = [len(w) for w in windows_list]
        start = time.perf_counter()
        probs = self.predict_windows(np.concatenate(windows_list))
        model_seconds = time.perf_counter() - start
        total = sum(counts)
        results, offset = [], 0
        for i, n in enumerate(counts):
            share = model_seconds * n / total
            extra = feature_seconds[i] if feature_seconds is not None else 0.0
            results.append(self._prediction(probs[offset : offset + n].mean(axis=0), share + extra))
            offset += n
        return results

    def classify_batch(
        self, samples_list: Sequence[np.ndarray], sample_rate: int = SAMPLE_RATE
    ) -> list[EmotionPrediction]:
        windows_list, feature_seconds = [], []
        for samples in samples_list:
            start = time.perf_counter()
            windows_list.append(self.windows(samples, sample_rate))
            feature_seconds.append(time.perf_counter() - start)
        return self.classify_windows(windows_list, feature_seconds)


_CACHE: dict[Path, EmotionClassifier] = {}
_LOCK = threading.Lock()


def load_classifier(model_dir: str | Path) -> EmotionClassifier:
    """The classifier for `model_dir`, loaded and checked once per process (thread-safe)."""
    key = Path(model_dir).resolve()
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = EmotionClassifier(key)
            _CACHE[key] = cached
        return cached


def clear_cache() -> None:
    """Forget loaded classifiers (tests, or after a model version is replaced on disk)."""
    with _LOCK:
        _CACHE.clear()
