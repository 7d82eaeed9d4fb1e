"""A model version on disk: its metadata checked against this code, and the right classifier loaded.

A model version is a folder holding ``metadata.json`` (labels, feature settings, sample rate,
training data fingerprint, metrics, measured reliability) and the model itself: ``model.keras``
for the CNN over acoustic features (``model_kind`` "cnn1d"), ``head.json`` for the head on
Whisper-encoder features ("whisper_encoder"). Loading checks all of it, the sha256 of every
model file included; a missing, corrupt or mismatched model raises :class:`ModelError` with a
clear message, never a silent wrong answer. Plain Python, no Django.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from core.emotion.features import FEATURE_VERSION, FeatureConfig, FeatureError

METADATA_FILE = "metadata.json"
MODEL_FILE = "model.keras"
CONFUSION_FILE = "confusion.png"
METADATA_SCHEMA = 1
SAMPLE_RATE = 16_000


MODEL_KINDS = ("cnn1d", "whisper_encoder")
HEAD_FILE = "head.json"
# Probabilities this flat (normalised entropy) say the model does not recognise the voice.
FLAT_ENTROPY = 0.95


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
    kind = meta.setdefault("model_kind", "cnn1d")  # versions made before there were two kinds
    if kind not in MODEL_KINDS:
        raise ModelError(f"Emotion model kind {kind!r} is not one this code runs ({', '.join(MODEL_KINDS)}).")
    sha_key = ARTEFACT_KEYS[kind][2]
    if not isinstance(meta.get(sha_key), str):
        raise ModelError(f"Emotion model metadata has no {sha_key}.")
    return meta


#: Per model kind, the metadata keys of its artefact: (file name key, default file name, sha256 key).
ARTEFACT_KEYS = {"cnn1d": ("model_file", MODEL_FILE, "model_sha256"), "whisper_encoder": ("head_file", HEAD_FILE, "head_sha256")}


def artefact_file(model_dir: Path, meta: dict[str, Any]) -> Path:
    """The version's artefact (the Keras model or the head), checked against its sha256."""
    return model_file(model_dir, meta, *ARTEFACT_KEYS[meta["model_kind"]])


def artefact_sha256(meta: dict[str, Any]) -> str:
    return str(meta[ARTEFACT_KEYS[meta["model_kind"]][2]])


def model_file(model_dir: Path, meta: dict[str, Any], name_key: str, default: str, sha_key: str) -> Path:
    """A model file of the version, checked against the sha256 its metadata records."""
    path = model_dir / str(meta.get(name_key, default))
    if not path.is_file():
        raise ModelError(f"Emotion model file missing: {path}")
    if sha256_file(path) != meta.get(sha_key):
        raise ModelError(f"Emotion model file {path} does not match the sha256 in its metadata (corrupt or replaced).")
    return path


def flatness(probabilities: np.ndarray) -> float:
    """Normalised entropy of a probability vector: 0 certain, 1 no idea at all."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / math.log(len(probabilities))) if len(probabilities) > 1 else 0.0
