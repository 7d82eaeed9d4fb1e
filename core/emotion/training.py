"""Train, evaluate and save an emotion model version, split by speaker (never by clip).

``train_emotion_model(dataset, out)`` is the function behind
``python manage.py train_emotion_model``. Steps: read the dataset (RAVDESS or 112 names),
compute features once per clip for the clean audio, its telephone-channel copy and a few
random augmentations (:mod:`core.emotion.feature_sets`, cached on disk), train the network on
the training speakers (:mod:`core.emotion.network`), keep the epoch with the best unweighted
accuracy on the validation speakers, evaluate on the test speakers, clean and telephone
(:mod:`core.emotion.metrics`), fit the voice-gender hint (:mod:`core.emotion.gender_training`),
and write ``model.keras``, ``metadata.json``, ``gender.json`` and ``confusion.png``.

Plain Python: no Django. TensorFlow is imported inside the functions that need it.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.emotion.datasets import (
    Clip,
    balanced_folds,
    fingerprint,
    labels_of,
    read_dataset,
    speaker_genders,
    speakers_of,
)
from core.emotion.feature_sets import (
    VARIANT_CLEAN,
    VARIANT_TELEPHONE,
    compute_features,
    default_cache_dir,
)
from core.emotion.features import DEFAULT_CONFIG, FeatureConfig
from core.emotion.gender import GENDER_FILE
from core.emotion.gender_training import fit_gender_model, gender_estimate_report, gender_model_report
from core.emotion.metrics import clip_probabilities, evaluate, format_report, save_confusion_png
from core.emotion.model_version import CONFUSION_FILE, METADATA_FILE, METADATA_SCHEMA, MODEL_FILE, sha256_file
from core.emotion.network import fit
from core.emotion.train_config import TrainConfig

# Shipped split for RAVDESS: fixed test and validation actors, 2 male + 2 female each.
RAVDESS_TEST_ACTORS = ["21", "22", "23", "24"]
RAVDESS_VAL_ACTORS = ["17", "18", "19", "20"]


def library_versions() -> dict[str, str]:
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
    progress_callback: Callable[[int, int, dict[str, Any]], None] | None = None,
    log: Callable[[str], None] = print,
    overwrite: bool = False,
) -> dict[str, Any]:
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
    metrics: dict[str, Any] = {}
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
        (out / GENDER_FILE).write_text(json.dumps(gender_model.to_dict()), encoding="utf-8")
    save_confusion_png(out / CONFUSION_FILE, metrics["test"]["confusion"], labels,
                       f"{out.name}: test speakers {','.join(test_s)} "
                       f"UA={metrics['test']['unweighted_accuracy']:.3f}")
    meta: dict[str, Any] = {
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
