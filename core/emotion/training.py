"""Train, evaluate and save an emotion model version, split by speaker (never by clip).

``train_emotion_model(dataset, out)`` is the function behind
``python manage.py train_emotion_model``. Steps: read the dataset (RAVDESS or 112 names),
compute features once per clip for the clean audio, its telephone-channel copy and a few
random augmentations (cached on disk, keyed by the dataset fingerprint and every setting),
train a 1-D CNN on the training speakers, keep the epoch with the best unweighted accuracy on
the validation speakers, evaluate on the test speakers (clean and telephone), and write
``model.keras``, ``metadata.json`` and ``confusion.png``.

Plain Python: no Django. TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core import augment
from core.audio import AudioError, load
from core.emotion.classifier import (
    CONFUSION_FILE,
    METADATA_FILE,
    METADATA_SCHEMA,
    MODEL_FILE,
    sha256_file,
)
from core.emotion.datasets import (
    Clip,
    balanced_folds,
    fingerprint,
    labels_of,
    read_dataset,
    speaker_genders,
    speakers_of,
)
from core.emotion.features import DEFAULT_CONFIG, FeatureConfig, clip_windows

AUGMENT_VERSION = 1
DISTRESS = ("angry", "fearful", "sad")
NON_DISTRESS = ("neutral", "calm", "happy")
# Shipped split for RAVDESS: fixed test and validation actors, 2 male + 2 female each.
RAVDESS_TEST_ACTORS = ["21", "22", "23", "24"]
RAVDESS_VAL_ACTORS = ["17", "18", "19", "20"]

VARIANT_CLEAN, VARIANT_TELEPHONE = 0, 1  # 2.. are random augmentations


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; invalid values raise ValueError here, for the library and the command."""

    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 1e-3
    seed: int = 1234
    n_augment: int = 2  # random augmented copies per training clip (plus clean + telephone)
    label_smoothing: float = 0.1
    # CNNs trained with seeds seed, seed+1, ... whose probabilities are averaged: the same
    # settings give members that disagree on hard clips; their mean is steadier.
    ensemble: int = 1
    arch: dict[str, Any] = field(
        default_factory=lambda: {
            "kind": "cnn1d",
            "filters": [64, 96, 128, 160],
            "kernels": [5, 5, 3, 3],
            "spatial_dropout": 0.1,
            "dropout": 0.35,
            "dense": 96,
            "l2": 1e-4,
        }
    )
    threads: int = 2

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "ensemble", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")
        if not isinstance(self.n_augment, int) or not 0 <= self.n_augment <= 8:
            raise ValueError(f"n_augment must be a whole number from 0 to 8, got {self.n_augment!r}.")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate!r}.")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}.")
        if len(self.arch.get("filters", [])) != len(self.arch.get("kernels", [])):
            raise ValueError("arch needs one kernel size per filter count.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
            "n_augment": self.n_augment,
            "label_smoothing": self.label_smoothing,
            "ensemble": self.ensemble,
            "arch": dict(self.arch),
        }


# ---------------------------------------------------------------------------------------
# Features for a whole dataset, with augmentation, cached on disk
# ---------------------------------------------------------------------------------------
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


def train_variants(tc: TrainConfig) -> list[int]:
    """Variants a model trains on: clean, telephone and the random copies."""
    return list(range(2 + tc.n_augment))


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


# ---------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------
def configure_tensorflow(threads: int, seed: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    keras.backend.clear_session()  # drop models of earlier runs in this process (CV folds)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    keras.utils.set_random_seed(seed)
    if hasattr(tf.config.experimental, "enable_op_determinism"):
        tf.config.experimental.enable_op_determinism()


def build_model(input_shape: tuple[int, int], n_labels: int, arch: dict, norm_data: np.ndarray,
                name: str = "emotion_cnn1d"):
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


# ---------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------
def clip_probabilities(model_fn: Callable, fs: FeatureSet, clip_ids: np.ndarray,
                       variant: int) -> np.ndarray:
    """Per-clip probabilities (mean over each clip's windows), rows in clip_ids order."""
    idx = fs.select(clip_ids, [variant])
    probs = model_fn(fs.windows[idx].astype(np.float32))
    owner = fs.clip_index[idx]
    out = np.zeros((len(clip_ids), probs.shape[1]), dtype=np.float64)
    pos = {c: i for i, c in enumerate(clip_ids)}
    counts = np.zeros(len(clip_ids))
    for p, c in zip(probs, owner, strict=True):
        out[pos[c]] += p
        counts[pos[c]] += 1
    return out / np.maximum(counts, 1)[:, None]


def evaluate(probs: np.ndarray, y: np.ndarray, labels: list[str],
             genders: Sequence[str] | None = None) -> dict:
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
        recall_score,
        roc_auc_score,
    )

    pred = probs.argmax(axis=1)
    present = sorted(set(y.tolist()))
    ua = float(recall_score(y, pred, labels=present, average="macro", zero_division=0))
    wa = float(accuracy_score(y, pred))
    p, r, f, s = precision_recall_fscore_support(
        y, pred, labels=list(range(len(labels))), zero_division=0
    )
    result = {
        "n": len(y),
        "unweighted_accuracy": round(ua, 4),
        "weighted_accuracy": round(wa, 4),
        "per_class": {
            lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                  "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "confusion": confusion_matrix(y, pred, labels=list(range(len(labels)))).tolist(),
    }
    if genders is not None:
        genders = np.asarray(genders)
        result["per_gender"] = {}
        for g in sorted(set(genders.tolist())):
            m = genders == g
            gp = [c for c in present if np.any(y[m] == c)]
            result["per_gender"][g] = {
                "n": int(m.sum()),
                "unweighted_accuracy": round(float(recall_score(
                    y[m], pred[m], labels=gp, average="macro", zero_division=0)), 4),
                "weighted_accuracy": round(float(accuracy_score(y[m], pred[m])), 4),
            }
    distress = [labels.index(lab) for lab in DISTRESS if lab in labels]
    calm = [labels.index(lab) for lab in NON_DISTRESS if lab in labels]
    if distress and calm:
        m = np.isin(y, distress + calm)
        target = np.isin(y[m], distress).astype(int)
        if 0 < target.sum() < len(target):
            score = probs[m][:, distress].sum(axis=1)
            result["distress_auc"] = round(float(roc_auc_score(target, score)), 4)
    return result


def format_report(name: str, metrics: dict) -> str:
    lines = [
        f"== {name}: n={metrics['n']}  UA={metrics['unweighted_accuracy']:.3f}  "
        f"WA={metrics['weighted_accuracy']:.3f}"
        + (f"  distress AUC={metrics['distress_auc']:.3f}" if "distress_auc" in metrics else "")
    ]
    lines.append(f"   {'label':<10} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}")
    for lab, m in metrics["per_class"].items():
        lines.append(f"   {lab:<10} {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} "
                     f"{m['support']:>4}")
    for g, m in metrics.get("per_gender", {}).items():
        lines.append(f"   gender {g:<7} n={m['n']:<4} UA={m['unweighted_accuracy']:.3f} "
                     f"WA={m['weighted_accuracy']:.3f}")
    return "\n".join(lines)


def save_confusion_png(path: Path, confusion: list[list[int]], labels: list[str], title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=100)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------
@dataclass
class FitResult:
    model: object
    best_epoch: int | list[int]  # a list, one per member, for an ensemble
    history: list[dict]
    seconds: float


@dataclass
class _TrainingData:
    dataset: Any  # tf.data.Dataset of (windows, label, class weight)
    n_windows: int
    norm_sample: np.ndarray


def fit(fs: FeatureSet, y_clip: np.ndarray, labels: list[str], train_ids: np.ndarray,
        val_ids: np.ndarray | None, tc: TrainConfig, config: FeatureConfig,
        progress: bool = True, progress_callback: Callable[[int, int, dict], None] | None = None
        ) -> FitResult:
    """Train on all variants of train_ids; keep the best-validation-UA epoch when val_ids.

    With tc.ensemble > 1, that many CNNs are trained on the same windows with seeds
    tc.seed, tc.seed + 1, ... and joined into one Keras model that averages their
    probabilities (one file, one output: the classifier does not know the difference).
    """
    import keras

    configure_tensorflow(tc.threads, tc.seed)
    start = time.perf_counter()
    data = _training_data(fs, y_clip, labels, train_ids, tc)
    members, best_epochs, history = [], [], []
    total = tc.epochs * tc.ensemble
    for i in range(tc.ensemble):
        keras.utils.set_random_seed(tc.seed + i)

        def member_progress(epoch: int, _n: int, row: dict, i: int = i) -> None:
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


def average_models(members: list, config: FeatureConfig):
    """One model whose output is the mean of the members' probabilities."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(config.window_frames, config.n_features), name="features")
    outputs = layers.Average(name="emotion")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name="emotion_ensemble")


def batched_predict(model, config: FeatureConfig) -> Callable[[np.ndarray], np.ndarray]:
    import tensorflow as tf

    spec = tf.TensorSpec(shape=(None, config.window_frames, config.n_features), dtype=tf.float32)
    infer = tf.function(lambda x: model(x, training=False), input_signature=[spec])

    def model_fn(x):
        return np.concatenate([infer(x[i:i + 512]).numpy() for i in range(0, len(x), 512)])

    return model_fn


def _training_data(fs: FeatureSet, y_clip: np.ndarray, labels: list[str],
                   train_ids: np.ndarray, tc: TrainConfig) -> _TrainingData:
    import tensorflow as tf

    train_idx = fs.select(train_ids, train_variants(tc))
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
                progress_callback: Callable[[int, int, dict], None]) -> tuple:
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
    history: list[dict] = []
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


def _gender_xy(fs: FeatureSet, clip_ids: np.ndarray, variants: Sequence[int]):
    from core.emotion.gender import gender_features

    wanted = set(int(i) for i in clip_ids)
    groups: dict[tuple[int, int], list[int]] = {}
    for row, (c, v) in enumerate(zip(fs.clip_index.tolist(), fs.variant.tolist(), strict=True)):
        if c in wanted and v in variants and fs.clips[c].gender in ("female", "male"):
            groups.setdefault((c, v), []).append(row)
    keys = sorted(groups)
    x = np.stack([gender_features(fs.windows[groups[k]]) for k in keys]) if keys else None
    y = np.array([fs.clips[c].gender == "female" for c, _ in keys], dtype=int)
    return x, y


def fit_gender_model(fs: FeatureSet, train_ids: np.ndarray, val_ids: np.ndarray,
                     n_variants: int) -> tuple[object, dict] | None:
    """Logistic regression on feature statistics (all training variants); C chosen on val."""
    from sklearn.linear_model import LogisticRegression

    from core.emotion.gender import GenderModel

    x, y = _gender_xy(fs, train_ids, range(n_variants))
    if x is None or len(set(y.tolist())) < 2:
        return None
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = (x - mean) / scale
    best_c, best_acc = 0.1, -1.0
    xv, yv = _gender_xy(fs, val_ids, [VARIANT_CLEAN])
    if xv is not None and len(set(yv.tolist())) == 2:
        for c in (0.01, 0.1, 1.0):
            clf = LogisticRegression(C=c, max_iter=3000).fit(xs, y)
            acc = float(np.mean(clf.predict((xv - mean) / scale) == yv))
            if acc > best_acc:
                best_c, best_acc = c, acc
    clf = LogisticRegression(C=best_c, max_iter=3000).fit(xs, y)
    model = GenderModel(mean, scale, clf.coef_[0].astype(float), float(clf.intercept_[0]))
    return model, {"C": best_c, "val_accuracy": round(best_acc, 4) if best_acc >= 0 else None}


def gender_model_report(model, fs: FeatureSet, clip_ids: np.ndarray, variant: int) -> dict:
    from core.emotion.gender import estimate_from_p_female

    x, y = _gender_xy(fs, clip_ids, [variant])
    if x is None:
        return {"n": 0}
    est = [estimate_from_p_female(model.p_female(row)) for row in x]
    truth = np.where(y == 1, "female", "male")
    out = {"n": len(est), "coverage": round(float(np.mean([e.label != "unknown"
                                                            for e in est])), 4)}
    for name, mask in (("all", np.ones(len(est), bool)), ("female", truth == "female"),
                       ("male", truth == "male")):
        decided = [(e.label, t) for e, t, m in zip(est, truth, mask, strict=True)
                   if m and e.label != "unknown"]
        out[f"accuracy_{name}"] = (round(float(np.mean([a == b for a, b in decided])), 4)
                                   if decided else None)
    return out


def gender_estimate_report(clips: Sequence[Clip]) -> dict:
    """Accuracy of the pitch estimator (core.emotion.gender.estimate_gender without a model)."""
    from core.emotion.gender import estimate_gender

    known = [c for c in clips if c.gender in ("female", "male")]
    estimates = [estimate_gender(load(c.path)) for c in known]
    decided = [(e.label, c.gender) for e, c in zip(estimates, known, strict=True)
               if e.label != "unknown"]
    return {
        "n": len(known),
        "coverage": round(len(decided) / len(known), 4) if known else 0.0,
        "accuracy": round(float(np.mean([a == b for a, b in decided])), 4) if decided else 0.0,
    }


def library_versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("tensorflow", "tensorflow-cpu", "keras", "librosa", "numpy", "scipy",
                 "scikit-learn", "soundfile", "soxr", "av"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


def default_split(clips: Sequence[Clip]) -> tuple[list[str], list[str], list[str]]:
    """(train, val, test) speakers: the fixed RAVDESS split, else gender-balanced folds."""
    speakers = speakers_of(clips)
    if set(RAVDESS_TEST_ACTORS + RAVDESS_VAL_ACTORS) <= set(speakers) and len(speakers) > 8:
        test, val = list(RAVDESS_TEST_ACTORS), list(RAVDESS_VAL_ACTORS)
    elif len(speakers) >= 3:
        n_folds = min(6, len(speakers))
        folds = [f for f in balanced_folds(clips, n_folds) if f]
        test, val = folds[-1], folds[-2]
    else:
        raise ValueError(f"Need at least 3 speakers for a speaker-independent split, got "
                         f"{len(speakers)}.")
    train = [s for s in speakers if s not in set(test) | set(val)]
    return train, val, test


def train_emotion_model(
    dataset: str | Path,
    out: str | Path,
    *,
    train_config: TrainConfig | None = None,
    feature_config: FeatureConfig = DEFAULT_CONFIG,
    test_speakers: Sequence[str] | None = None,
    val_speakers: Sequence[str] | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    progress_callback: Callable[[int, int, dict], None] | None = None,
    log: Callable[[str], None] = print,
    overwrite: bool = False,
) -> dict:
    """Train a model version into `out`; return its metadata (also written to metadata.json)."""
    t0 = time.perf_counter()
    tc = train_config or TrainConfig()
    dataset = Path(dataset)
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty (use overwrite).")
    clips = read_dataset(dataset)
    labels = labels_of(clips)
    if len(labels) < 2:
        raise ValueError("Need at least two labels to train.")
    train_s, val_s, test_s = default_split(clips)
    if test_speakers is not None:
        test_s = [str(s) for s in test_speakers]
    if val_speakers is not None:
        val_s = [str(s) for s in val_speakers]
    train_s = [s for s in speakers_of(clips) if s not in set(test_s) | set(val_s)]
    if not train_s or not test_s:
        raise ValueError("The split leaves no training or no test speakers.")
    log(f"dataset {dataset}: {len(clips)} clips, labels {labels}")
    log(f"train speakers {train_s}\nval speakers {val_s}\ntest speakers {test_s}")
    fp = fingerprint(clips, dataset)
    fs = compute_features(clips, feature_config, n_augment=tc.n_augment, seed=tc.seed,
                          data_fingerprint=fp,
                          cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
                          progress=progress)
    y_clip = np.asarray([labels.index(c.label) for c in clips])
    speaker = np.asarray([c.speaker for c in clips])
    ids = {name: np.flatnonzero(np.isin(speaker, s)) for name, s in
           (("train", train_s), ("val", val_s), ("test", test_s))}
    result = fit(fs, y_clip, labels, ids["train"], ids["val"] if len(ids["val"]) else None, tc,
                 feature_config, progress=progress, progress_callback=progress_callback)
    model = result.model
    genders = [c.gender for c in clips]
    metrics = {}
    for name, split_ids, variant in (("test", ids["test"], VARIANT_CLEAN),
                                     ("test_telephone", ids["test"], VARIANT_TELEPHONE),
                                     ("val", ids["val"], VARIANT_CLEAN)):
        if len(split_ids) == 0:
            continue
        probs = clip_probabilities(model.model_fn, fs, split_ids, variant)
        metrics[name] = evaluate(probs, y_clip[split_ids], labels,
                                 [genders[i] for i in split_ids])
        log(format_report(f"{name} speakers", metrics[name]))
    if "test_telephone" in metrics:
        drop = metrics["test"]["unweighted_accuracy"] - metrics["test_telephone"][
            "unweighted_accuracy"]
        metrics["telephone_ua_drop"] = round(drop, 4)
        log(f"telephone UA drop on test speakers: {drop * 100:.1f} points")

    metrics["gender_pitch_test"] = gender_estimate_report([clips[i] for i in ids["test"]])
    g = metrics["gender_pitch_test"]
    log(f"voice gender (pitch) on test speakers: accuracy {g['accuracy']:.3f} on "
        f"{g['coverage'] * 100:.0f}% of clips (the rest 'unknown')")
    gender_fit = fit_gender_model(fs, ids["train"], ids["val"], 2 + tc.n_augment)
    if gender_fit is not None:
        gender_model, gender_info = gender_fit
        metrics["gender_test"] = {
            "clean": gender_model_report(gender_model, fs, ids["test"], VARIANT_CLEAN),
            "telephone": gender_model_report(gender_model, fs, ids["test"], VARIANT_TELEPHONE),
            **gender_info,
        }
        g = metrics["gender_test"]["clean"]
        log(f"voice gender (learned) on test speakers: accuracy {g['accuracy_all']} "
            f"(female {g['accuracy_female']}, male {g['accuracy_male']}) on "
            f"{g['coverage'] * 100:.0f}% of clips")

    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE
    model.save(model_path)
    if gender_fit is not None:
        from core.emotion.gender import GENDER_FILE

        (out / GENDER_FILE).write_text(json.dumps(gender_model.to_dict()), encoding="utf-8")
    save_confusion_png(out / CONFUSION_FILE, metrics["test"]["confusion"], labels,
                       f"{out.name}: test speakers {','.join(test_s)} "
                       f"UA={metrics['test']['unweighted_accuracy']:.3f}")
    meta = {
        "schema": METADATA_SCHEMA,
        "version": out.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_file": MODEL_FILE,
        "model_sha256": sha256_file(model_path),
        "confusion_png": CONFUSION_FILE,
        "gender_file": "gender.json" if gender_fit is not None else None,
        "labels": labels,
        "sample_rate": feature_config.sample_rate,
        "feature_config": feature_config.to_dict(),
        "feature_names": feature_config.feature_names(),
        "input_shape": [feature_config.window_frames, feature_config.n_features],
        "dataset": {"path": str(dataset), "scheme": clips[0].scheme, "fingerprint": fp,
                    "n_clips": len(clips)},
        "train_actors": train_s,
        "val_actors": val_s,
        "test_actors": test_s,
        "speaker_genders": speaker_genders(clips),
        "training": {**tc.to_dict(), "best_epoch": result.best_epoch,
                     "history": result.history, "fit_seconds": round(result.seconds, 1),
                     "total_seconds": round(time.perf_counter() - t0, 1),
                     "augmentations": ["clean", "telephone"] + ["random"] * tc.n_augment},
        "metrics": metrics,
        "library_versions": library_versions(),
    }
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    log(f"wrote {out} in {meta['training']['total_seconds']} s")
    return meta
