"""Train a Whisper-encoder emotion model version and write it to a folder, ready to load.

``train_encoder_model(dataset, out)`` is behind ``manage.py train_emotion_model --kind
whisper-encoder``. Figures: k-fold by speaker with the head's settings chosen inside each fold
(the version's held-out figures and reliability), and optionally another corpus the model never
saw (cross-corpus figures; never used to choose anything). The shipped head is then trained on
every speaker, with settings chosen by speaker-grouped CV. Plain Python, no Django.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from core.emotion.datasets import Clip, fingerprint, labels_of, read_dataset, speaker_genders
from core.emotion.encoder_model import select_layers
from core.emotion.encoder_training import (
    CLEAN,
    DEFAULT_SEARCH,
    PLAIN_VARIANTS,
    TELEPHONE,
    HeadSearch,
    check_variants,
    choose_settings,
    cross_corpus_metrics,
    dataset_embeddings,
    held_out_folds,
    train_head,
)
from core.emotion.features import DEFAULT_CONFIG
from core.emotion.gender import GENDER_FILE, GenderModel
from core.emotion.metrics import save_confusion_png
from core.emotion.model_version import CONFUSION_FILE, HEAD_FILE, METADATA_FILE, METADATA_SCHEMA, sha256_file
from core.emotion.training import library_versions
from core.emotion.whisper_encoder import TINY_EN, load_named_encoder


def train_encoder_model(
    dataset: str | Path,
    out: str | Path,
    *,
    search: HeadSearch = DEFAULT_SEARCH,
    folds: int = 6,
    cross_corpus: tuple[Sequence[Clip], str] | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    progress_callback: Callable[[int, int, dict[str, Any]], None] | None = None,
    log: Callable[[str], None] = print,
    overwrite: bool = False,
    clips: Sequence[Clip] | None = None,
    scheme: str | None = None,
    lineage: dict[str, Any] | None = None,
    held_out_speakers: Sequence[str] | None = None,
    encoder_name: str = TINY_EN,
    variants: Sequence[str] = PLAIN_VARIANTS,
) -> dict[str, Any]:
    """Train into `out`; return the metadata (also written). `cross_corpus` is (clips, a name).
    `clips` (all under `dataset`, e.g. an imported dataset's stored files) replaces reading names;
    `lineage` adds to the metadata's "dataset" (e.g. the names of the imported datasets trained on).
    `held_out_speakers` replaces the k folds by one split: the figures are on those speakers, and the
    shipped head never hears them (so they stay unheard for any later comparison). `encoder_name` is
    one of core.emotion.whisper_encoder.NAMED_ENCODERS. `variants` are the copies of every clip the
    head learns from (core.emotion.encoder_training.VARIANTS: clean and telephone, and speed
    perturbation); the figures are on the clean and telephone copies of unheard speakers."""
    started = time.perf_counter()
    dataset, out = Path(dataset), Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty (use overwrite).")
    clips = sorted(clips, key=lambda c: str(c.path)) if clips is not None else read_dataset(dataset)
    labels = labels_of(clips)
    held = sorted(set(held_out_speakers or []))
    if held:
        unknown = set(held) - {c.speaker for c in clips}
        if unknown:
            raise ValueError(f"Held-out speakers not in the data: {', '.join(sorted(unknown))}.")
        if len({c.speaker for c in clips} - set(held)) < 2:
            raise ValueError("The held-out speakers leave fewer than two speakers to train on.")
    elif len(labels) < 2 or len({c.speaker for c in clips}) < folds:
        raise ValueError(f"Need at least two labels and {folds} speakers to train and judge a model.")
    encoder = load_named_encoder(encoder_name)
    fp = fingerprint(clips, dataset)
    variants = check_variants(variants)
    n_layers = max(max(option) for option in search.layer_options) + 1
    embeddings = dataset_embeddings(clips, encoder, fingerprint=fp, cache_dir=cache_dir, progress=progress,
                                    variants=variants, n_layers=n_layers)
    y = np.array([labels.index(c.label) for c in clips])
    speakers = np.array([c.speaker for c in clips])
    held_out = held_out_folds(embeddings, y, clips, labels, search, folds, log, progress_callback,
                              folds=[held] if held else None)
    everyone = np.flatnonzero(~np.isin(speakers, held)) if held else np.arange(len(clips))
    layers, c, scores = choose_settings(embeddings, y, speakers, everyone, labels, search, log)
    head = train_head(embeddings, y, everyone, labels, layers, c, adapt=search.adapt)
    metrics: dict[str, Any] = {"held_out": held_out, "search": scores}
    if cross_corpus is not None:
        other, name = cross_corpus
        metrics["cross_corpus"] = {"corpus": name, **cross_corpus_metrics(
            head, encoder, other, fingerprint(other, _common_folder(other)), labels, cache_dir, progress)}
    trained = [clips[i] for i in everyone]
    gender = _gender_head(embeddings[everyone], trained, layers)
    out.mkdir(parents=True, exist_ok=True)
    (out / HEAD_FILE).write_text(json.dumps(head.to_dict()), encoding="utf-8")
    if gender is not None:
        (out / GENDER_FILE).write_text(json.dumps(gender.to_dict()), encoding="utf-8")
    protocol = f"held-out speakers {', '.join(held)}" if held else f"{folds}-fold by speaker"
    save_confusion_png(out / CONFUSION_FILE, held_out["confusion"], labels,
                       f"{out.name}: {protocol}, UA={held_out['ua']['mean']:.3f}")
    cross = metrics.get("cross_corpus", {}).get("clean", {})
    meta: dict[str, Any] = {
        "schema": METADATA_SCHEMA, "version": out.name, "model_kind": "whisper_encoder",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "head_file": HEAD_FILE, "head_sha256": sha256_file(out / HEAD_FILE), "confusion_png": CONFUSION_FILE,
        "gender_file": GENDER_FILE if gender is not None else None,
        "encoder": {"model": encoder_name, "model_sha256": encoder.model_checksum, "layers": list(layers),
                    "pooling": "mean+std over the clip's frames"},
        "labels": labels, "sample_rate": DEFAULT_CONFIG.sample_rate, "feature_config": DEFAULT_CONFIG.to_dict(),
        "dataset": {"path": str(dataset), "scheme": scheme or clips[0].scheme, "fingerprint": fp, "n_clips": len(clips),
                    **(lineage or {})},
        "speaker_genders": speaker_genders(trained),  # the speakers the shipped head heard
        "held_out_speakers": held,
        "training": {"head": "multinomial logistic regression", "c": c, "layers": list(layers),
                     "search": {"layers": [list(opt) for opt in search.layer_options], "c": list(search.c_options),
                                "inner_folds": search.inner_folds},
                     "folds": len(held_out["folds"]), "variants": list(variants),
                     "adapts_to_deployment": search.adapt,
                     "total_seconds": round(time.perf_counter() - started, 1)},
        "metrics": metrics,
        "reliability": {"distress_auc_heldout": held_out.get("distress_auc", {}).get("mean"),
                        # as deployed: over all the labels it answers with (older versions recorded
                        # the AUC over the labels the corpora share, which flattered them)
                        "distress_auc_cross_corpus": cross.get("distress_auc_all_labels")},
        "library_versions": library_versions(),
    }
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    log(f"wrote {out}: held-out UA {held_out['ua']['mean']:.3f}" +
        (f", cross-corpus UA {cross['ua']:.3f}" if cross else ""))
    return meta


def _common_folder(clips: Sequence[Clip]) -> Path:
    """The folder holding every clip (the fingerprint names clips relative to it)."""
    import os

    return Path(os.path.commonpath([Path(c.path).parent for c in clips]))


def _gender_head(embeddings: np.ndarray, clips: Sequence[Clip], layers: Sequence[int]) -> GenderModel | None:
    """The voice-gender hint on the same embedding, trained on every speaker of known gender."""
    from sklearn.linear_model import LogisticRegression

    known = np.array([c.gender in ("female", "male") for c in clips])
    if len({c.gender for c in clips if c.gender != "unknown"}) < 2:
        return None
    x = np.concatenate([select_layers(embeddings[known, CLEAN], layers),
                        select_layers(embeddings[known, TELEPHONE], layers)]).astype(np.float64)
    female = np.array([c.gender == "female" for c in clips])[known]
    target = np.concatenate([female, female]).astype(int)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=0.01, max_iter=3000).fit((x - mean) / scale, target)
    return GenderModel(mean, scale, model.coef_[0].astype(float), float(model.intercept_[0]))
