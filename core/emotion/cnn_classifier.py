"""The CNN emotion classifier: a Keras model over windows of acoustic features.

TensorFlow is imported when a model is loaded, never before. Plain Python: no Django.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.emotion.features import FeatureConfig, inference_windows
from core.emotion.model_version import (
    FLAT_ENTROPY,
    SAMPLE_RATE,
    ModelError,
    artefact_file,
    flatness,
    read_metadata,
)
from core.emotion.prediction import EmotionPrediction
from core.emotion.tensorflow_setup import configure_tensorflow

INFER_CHUNK = 256  # windows per model call in a batch


class CnnClassifier:
    """A loaded, checked CNN model version. Use :func:`core.emotion.classifier.load_classifier`."""

    def __init__(self, model_dir: str | Path):
        self.model_dir = Path(model_dir).resolve()
        meta = read_metadata(self.model_dir)
        self.metadata = meta
        self.version: str = meta["version"]
        self.labels: list[str] = list(meta["labels"])
        self.config = FeatureConfig.from_dict(meta["feature_config"])
        model_path = artefact_file(self.model_dir, meta)
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
            unfamiliar=flatness(probs) >= FLAT_ENTROPY,
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


