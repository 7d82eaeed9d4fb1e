"""TensorFlow set-up, in one place for inference and training.

TensorFlow is imported here only when a model is used (its import costs seconds). Thread counts
can only be set before TensorFlow's first operation; a later attempt keeps the first settings.
"""

from __future__ import annotations

import os


def _quiet_environment() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _set_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TensorFlow already started in this process: its first settings stay


def configure_tensorflow(threads: int | None = None) -> None:
    """Quiet logs, Keras on TensorFlow, and a thread cap (default: EMOTION_TF_THREADS or 2)."""
    _quiet_environment()
    _set_threads(threads or int(os.environ.get("EMOTION_TF_THREADS", "2")))


def start_training_session(*, threads: int, seed: int) -> None:
    """A fresh Keras session (models of earlier runs, e.g. CV folds, dropped), seeded and deterministic."""
    _quiet_environment()
    import keras
    import tensorflow as tf

    keras.backend.clear_session()
    _set_threads(threads)
    keras.utils.set_random_seed(seed)
    if hasattr(tf.config.experimental, "enable_op_determinism"):
        tf.config.experimental.enable_op_determinism()
