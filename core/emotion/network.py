"""The emotion network: a 1-D CNN over feature windows, trained with Keras on TensorFlow.

TensorFlow is imported inside the functions that need it. Plain Python, no Django.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.emotion.feature_sets import VARIANT_CLEAN, FeatureSet, train_variants
from core.emotion.features import FeatureConfig
from core.emotion.metrics import clip_probabilities, evaluate
from core.emotion.tensorflow_setup import start_training_session
from core.emotion.train_config import TrainConfig


def build_model(input_shape: tuple[int, int], n_labels: int, arch: dict[str, Any],
                norm_data: np.ndarray, name: str = "emotion_cnn1d") -> Any:
    """1-D CNN over time; the feature-wise Normalization is adapted on training windows."""
    import keras
    from keras import layers

    reg = keras.regularizers.l2(arch.get("l2", 0.0)) if arch.get("l2") else None
    inputs = keras.Input(shape=input_shape, name="features")
    norm = layers.Normalization(axis=-1, name="standardise")
    norm.adapt(norm_data.reshape(-1, input_shape[-1]))
    x = norm(inputs)
    if arch.get("spatial_dropout"):
        x = layers.SpatialDropout1D(arch["spatial_dropout"])(x)
    for i, (filters, kernel) in enumerate(zip(arch["filters"], arch["kernels"], strict=True)):
        x = layers.Conv1D(filters, kernel, padding="same", use_bias=False,
                          kernel_regularizer=reg, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.Activation("relu")(x)
        if i < len(arch["filters"]) - 1:
            x = layers.MaxPooling1D(2)(x)
    x = layers.Concatenate()([layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)])
    x = layers.Dropout(arch.get("dropout", 0.3))(x)
    x = layers.Dense(arch.get("dense", 96), activation="relu", kernel_regularizer=reg,
                     name="embedding")(x)
    x = layers.Dropout(arch.get("dropout", 0.3))(x)
    outputs = layers.Dense(n_labels, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name=name)


@dataclass
class FitResult:
    model: Any  # a keras.Model, with a `model_fn` attribute added by fit()
    best_epoch: int | list[int]  # a list, one per member, for an ensemble
    history: list[dict[str, Any]]
    seconds: float


@dataclass
class _TrainingData:
    dataset: Any  # tf.data.Dataset of (windows, label, class weight)
    n_windows: int
    norm_sample: np.ndarray


def fit(fs: FeatureSet, y_clip: np.ndarray, labels: list[str], train_ids: np.ndarray,
        val_ids: np.ndarray | None, tc: TrainConfig, config: FeatureConfig,
        progress: bool = True,
        progress_callback: Callable[[int, int, dict[str, Any]], None] | None = None
        ) -> FitResult:
    """Train on all variants of train_ids; keep the best-validation-UA epoch when val_ids.

    With tc.ensemble > 1, that many CNNs are trained on the same windows with seeds
    tc.seed, tc.seed + 1, ... and joined into one Keras model that averages their
    probabilities (one file, one output: the classifier does not know the difference).
    """
    import keras

    start_training_session(threads=tc.threads, seed=tc.seed)
    start = time.perf_counter()
    data = _training_data(fs, y_clip, labels, train_ids, tc)
    members: list[Any]
    best_epochs: list[int]
    history: list[dict[str, Any]]
    members, best_epochs, history = [], [], []
    total = tc.epochs * tc.ensemble
    for i in range(tc.ensemble):
        keras.utils.set_random_seed(tc.seed + i)

        def member_progress(epoch: int, _n: int, row: dict[str, Any], i: int = i) -> None:
            if progress_callback:
                progress_callback(i * tc.epochs + epoch, total, row)

        model, best, rows = _fit_member(
            fs, y_clip, labels, val_ids, tc, config, data, seed=tc.seed + i,
            name=f"emotion_cnn1d_{i}" if tc.ensemble > 1 else "emotion_cnn1d",
            progress=progress, progress_callback=member_progress)
        members.append(model)
        best_epochs.append(best)
        history += [{**row, "member": i} for row in rows] if tc.ensemble > 1 else rows
    model = members[0] if tc.ensemble == 1 else average_models(members, config)
    model.model_fn = batched_predict(model, config)  # convenience for evaluation by the caller
    return FitResult(model, best_epochs[0] if tc.ensemble == 1 else best_epochs, history,
                     time.perf_counter() - start)


def average_models(members: list[Any], config: FeatureConfig) -> Any:
    """One model whose output is the mean of the members' probabilities."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(config.window_frames, config.n_features), name="features")
    outputs = layers.Average(name="emotion")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name="emotion_ensemble")


def batched_predict(model: Any, config: FeatureConfig) -> Callable[[np.ndarray], np.ndarray]:
    import tensorflow as tf

    spec = tf.TensorSpec(shape=(None, config.window_frames, config.n_features), dtype=tf.float32)
    infer = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def model_fn(x: np.ndarray) -> np.ndarray:
        return np.concatenate([infer(x[i:i + 512]).numpy() for i in range(0, len(x), 512)])

    return model_fn


def _training_data(fs: FeatureSet, y_clip: np.ndarray, labels: list[str],
                   train_ids: np.ndarray, tc: TrainConfig) -> _TrainingData:
    import tensorflow as tf

    train_idx = fs.select(train_ids, train_variants(tc.n_augment))
    if len(train_idx) == 0:
        raise ValueError("No training windows.")
    x_train = fs.windows[train_idx]
    y_train = y_clip[fs.clip_index[train_idx]]
    # Balance classes (RAVDESS has half as many neutral clips).
    counts = np.bincount(y_train, minlength=len(labels)).astype(float)
    class_w = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / len(labels), 0.0)
    w_train = class_w[y_train].astype(np.float32)
    tensors = (x_train, y_train, w_train)
    sample = x_train[fs.variant[train_idx] == VARIANT_CLEAN].astype(np.float32)
    return _TrainingData(tf.data.Dataset.from_tensor_slices(tensors), len(train_idx),
                         sample if len(sample) else x_train.astype(np.float32))


def _fit_member(fs: FeatureSet, y_clip: np.ndarray, labels: list[str],
                val_ids: np.ndarray | None, tc: TrainConfig, config: FeatureConfig,
                data: _TrainingData, *, seed: int, name: str, progress: bool,
                progress_callback: Callable[[int, int, dict[str, Any]], None]
                ) -> tuple[Any, int, list[dict[str, Any]]]:
    """One CNN: (model, best epoch, history rows)."""
    import keras
    import tensorflow as tf
    from tqdm import tqdm

    model = build_model((config.window_frames, config.n_features), len(labels), tc.arch,
                        data.norm_sample, name=name)
    steps_per_epoch = int(np.ceil(data.n_windows / tc.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(
        tc.learning_rate, decay_steps=max(1, steps_per_epoch * tc.epochs), alpha=0.05
    )
    emotion_loss = keras.losses.CategoricalCrossentropy(label_smoothing=tc.label_smoothing)
    n_labels = len(labels)
    ds = (data.dataset.shuffle(data.n_windows, seed=seed, reshuffle_each_iteration=True)
          .batch(tc.batch_size)
          .map(lambda x, y, w: (tf.cast(x, tf.float32), tf.one_hot(y, n_labels), w))
          .prefetch(2))
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=emotion_loss)
    model_fn = batched_predict(model, config)
    history: list[dict[str, Any]] = []
    best_ua, best_epoch, best_weights = -1.0, tc.epochs, None
    bar = tqdm(range(1, tc.epochs + 1), desc=f"training {name}", unit="epoch",
               disable=not progress, file=sys.stderr)
    for epoch in bar:
        h = model.fit(ds, epochs=1, verbose=0, shuffle=False)
        row = {"epoch": epoch, "loss": round(float(h.history["loss"][-1]), 4)}
        if val_ids is not None and len(val_ids):
            probs = clip_probabilities(model_fn, fs, val_ids, VARIANT_CLEAN)
            val = evaluate(probs, y_clip[val_ids], labels)
            row["val_ua"] = val["unweighted_accuracy"]
            if row["val_ua"] > best_ua:
                best_ua, best_epoch = row["val_ua"], epoch
                best_weights = model.get_weights()
        history.append(row)
        bar.set_postfix({k: v for k, v in row.items() if k != "epoch"})
        progress_callback(epoch, tc.epochs, row)
    if best_weights is not None:
        model.set_weights(best_weights)
    return model, best_epoch, history
