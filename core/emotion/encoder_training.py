"""Training and judging the Whisper-encoder emotion head, split by speaker, never by clip.

Embeddings are computed once per clip and variant (clean, telephone channel) and cached on disk,
keyed by the dataset's fingerprint and the encoder's checksum. The head's settings (which
encoder layers, how much regularisation) are chosen by speaker-grouped cross-validation on the
training speakers only; the test speakers, and any other corpus, are never looked at while
choosing.

A head may also adapt to its deployment (``adapt``): it then learns from each copy of the training
clips standardised by that copy's own statistics (clean by the clean clips', telephone by the
telephone clips', ...), and is judged on unheard speakers and other corpora standardised by the
statistics of the other clips judged beside them (never the clip's own): what a deployment does with
its recent calls (:mod:`core.emotion.voice_baseline`). No labels are read for that. Plain Python, no
Django.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core import augment
from core.audio import AudioError, load
from core.emotion.datasets import Clip
from core.emotion.encoder_model import EncoderHead, embed_layers, fit_head, select_layers
from core.emotion.feature_sets import default_cache_dir
from core.emotion.metrics import evaluate
from core.emotion.whisper_encoder import WhisperEncoder

CLEAN, TELEPHONE = 0, 1


def _speed(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda samples: augment.speed_perturb(samples, factor)


def _telephone_speed(factor: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda samples: augment.telephone(augment.speed_perturb(samples, factor))


#: The copies of a clip an encoder head can learn from. "clean" and "telephone" come first in every
#: set: they are the two the figures are judged on; the others are only learnt from.
VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "clean": lambda samples: samples,
    "telephone": augment.telephone,
    **{f"speed {f:g}": _speed(f) for f in (0.85, 0.9, 1.1, 1.15)},
    **{f"telephone speed {f:g}": _telephone_speed(f) for f in (0.85, 0.9, 1.1, 1.15)},
}
PLAIN_VARIANTS: tuple[str, ...] = ("clean", "telephone")
#: Speed perturbation, clean and through the telephone channel: other paces and vocal tracts than
#: the training actors' (what lifted the voice on EmoDB's German actors; see docs/models.md).
SPEED_VARIANTS: tuple[str, ...] = PLAIN_VARIANTS + tuple(
    name for name in VARIANTS if name not in PLAIN_VARIANTS)
AUGMENTATIONS: dict[str, tuple[str, ...]] = {"plain": PLAIN_VARIANTS, "speed": SPEED_VARIANTS}


def check_variants(variants: Sequence[str]) -> tuple[str, ...]:
    """The variants, clean and telephone first; ValueError for anything else."""
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or tuple(variants[:2]) != PLAIN_VARIANTS or len(set(variants)) != len(variants):
        raise ValueError(f"training variants must start with clean, telephone and name each of "
                         f"{', '.join(VARIANTS)} at most once (got {', '.join(variants)})")
    return tuple(variants)


@dataclass(frozen=True)
class HeadSearch:
    """The head settings tried, and how they are chosen."""

    layer_options: tuple[tuple[int, ...], ...] = ((1,), (2,), (3,), (1, 2), (2, 3))
    c_options: tuple[float, ...] = (0.001, 0.003, 0.01, 0.03, 0.1)
    inner_folds: int = 4
    adapt: bool = False  # heads that adapt to their deployment (see the module's docstring)

    def __post_init__(self) -> None:
        if not self.layer_options or not self.c_options or self.inner_folds < 2:
            raise ValueError("the head search needs layers, C values and at least two inner folds")


DEFAULT_SEARCH = HeadSearch()


def dataset_embeddings(clips: Sequence[Clip], encoder: WhisperEncoder, *, fingerprint: str,
                       cache_dir: Path | None = None, progress: bool = True,
                       variants: Sequence[str] = PLAIN_VARIANTS, n_layers: int | None = None) -> np.ndarray:
    """(clips, variants: clean, telephone and any others, layers, dims), from the cache when it has
    them; with `n_layers`, only the first n layers (a head never reads past them)."""
    from tqdm import tqdm

    variants = check_variants(variants)
    extra = "" if variants == PLAIN_VARIANTS and n_layers is None else f":{'|'.join(variants)}:{n_layers}"
    key = hashlib.sha256(f"{fingerprint}:{encoder.model_checksum}:{len(clips)}:v1{extra}".encode()).hexdigest()[:24]
    path = (cache_dir or default_cache_dir()) / f"encoder-{key}.npy"
    if path.is_file():
        return np.asarray(np.load(path))
    rows = []
    for clip in tqdm(clips, desc="encoder", unit="clip", disable=not progress, file=sys.stderr):
        try:
            samples = load(clip.path)
        except AudioError as exc:
            raise AudioError(f"{clip.path}: {exc}") from exc
        rows.append(np.stack([embed_layers(encoder, VARIANTS[v](samples), n_layers=n_layers) for v in variants]))
    embeddings = np.stack(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, embeddings)
    os.replace(tmp, path)
    return embeddings


def _training_rows(embeddings: np.ndarray, ids: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    return np.concatenate([select_layers(embeddings[ids, v], layers) for v in range(embeddings.shape[1])])


def by_domain(embeddings: np.ndarray, ids: np.ndarray, *, leave_one_out: bool = False) -> np.ndarray:
    """(len(ids), variants, layers, dims): clips `ids`, each variant standardised by the mean and spread
    of that variant over those clips; with `leave_one_out`, over the other clips only (how a clip
    being judged is standardised: by the calls beside it, never by itself)."""
    x = embeddings[ids].astype(np.float64)
    n = x.shape[0]
    total, squares = x.sum(axis=0), np.square(x).sum(axis=0)
    if leave_one_out and n > 2:
        mean = (total - x) / (n - 1)
        var = np.maximum((squares - np.square(x)) / (n - 1) - np.square(mean), 0.0)
    else:
        mean = total / n
        var = np.maximum(squares / n - np.square(mean), 0.0)
    return np.asarray((x - mean) / (np.sqrt(var) + 1e-6), dtype=np.float32)


def train_head(embeddings: np.ndarray, y: np.ndarray, ids: np.ndarray, labels: list[str],
               layers: Sequence[int], c: float, *, adapt: bool = False) -> EncoderHead:
    """Fit on every variant of clips `ids` (clean, telephone and any others), classes balanced; with
    `adapt`, on each variant standardised by its own statistics, the head keeping the raw clean and
    telephone copies' statistics as its prior."""
    x = (_training_rows(by_domain(embeddings, ids), np.arange(len(ids)), layers) if adapt
         else _training_rows(embeddings, ids, layers))
    targets = np.concatenate([y[ids]] * embeddings.shape[1])
    counts = np.bincount(targets, minlength=len(labels)).astype(float)
    weights = (counts.sum() / np.maximum(counts, 1) / np.count_nonzero(counts))[targets]
    head = fit_head(x, targets, labels, list(layers), c, sample_weight=weights)
    if adapt:
        head = head.with_prior(_training_rows(embeddings[:, [CLEAN, TELEPHONE]], ids, layers))
    return head


def judged_probabilities(head: EncoderHead, embeddings: np.ndarray, ids: np.ndarray, variant: int) -> np.ndarray:
    """The head's probabilities for copy `variant` of clips `ids`; a head that adapts sees each clip
    standardised by the other clips judged beside it."""
    if head.adapts:
        rows = select_layers(by_domain(embeddings[:, [variant]], ids, leave_one_out=True)[:, 0], head.layers)
        return head.probabilities(rows)
    return head.probabilities(select_layers(embeddings[ids, variant], head.layers))


def choose_settings(embeddings: np.ndarray, y: np.ndarray, speakers: np.ndarray, ids: np.ndarray,
                    labels: list[str], search: HeadSearch = DEFAULT_SEARCH,
                    log: Callable[[str], None] = lambda s: None) -> tuple[tuple[int, ...], float, dict[str, float]]:
    """(layers, C) with the best mean unweighted accuracy on held-out training speakers."""
    groups = sorted(set(speakers[ids].tolist()))
    if len(groups) < 2:
        raise ValueError("Choosing the head's settings needs at least two training speakers.")
    inner = min(search.inner_folds, len(groups))  # a small dataset: one speaker per inner fold
    folds = [groups[i::inner] for i in range(inner)]
    scores: dict[str, float] = {}
    for layers in search.layer_options:
        for c in search.c_options:
            uas = []
            for held in folds:
                val = ids[np.isin(speakers[ids], held)]
                fit_ids = ids[~np.isin(speakers[ids], held)]
                head = train_head(embeddings, y, fit_ids, labels, layers, c, adapt=search.adapt)
                probs = judged_probabilities(head, embeddings, val, CLEAN)
                uas.append(evaluate(probs, y[val], labels)["unweighted_accuracy"])
            scores[f"{'+'.join(map(str, layers))}@{c:g}"] = round(float(np.mean(uas)), 4)
    best = max(scores, key=lambda k: scores[k])
    log(f"inner CV on {len(groups)} speakers: best {best} (UA {scores[best]:.3f})")
    layers_text, c_text = best.split("@")
    return tuple(int(i) for i in layers_text.split("+")), float(c_text), scores


def head_metrics(head: EncoderHead, embeddings: np.ndarray, y: np.ndarray, ids: np.ndarray,
                 labels: list[str], genders: Sequence[str], variant: int,
                 only_labels: Sequence[str] | None = None) -> dict[str, Any]:
    """Held-out figures; with `only_labels`, the argmax is taken over those labels alone (the
    labels two corpora share)."""
    probs = judged_probabilities(head, embeddings, ids, variant)
    if only_labels is not None:
        keep = [labels.index(lab) for lab in only_labels]
        mask = np.zeros(len(labels))
        mask[keep] = 1.0
        probs = probs * mask
        probs = probs / probs.sum(axis=1, keepdims=True)
    return evaluate(probs, y[ids], labels, [genders[i] for i in ids])


def held_out_folds(embeddings: np.ndarray, y: np.ndarray, clips: Sequence[Clip], labels: list[str],
                   search: HeadSearch, n_folds: int, log: Callable[[str], None],
                   progress_callback: Callable[[int, int, dict[str, Any]], None] | None = None,
                   folds: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:
    """k-fold by speaker (each fold balanced by gender), or the given `folds` of test speakers,
    settings chosen inside each fold: the version's held-out figures, clean and telephone, per
    gender, with the pooled confusion."""
    from core.emotion.datasets import balanced_folds

    speakers = np.array([c.speaker for c in clips])
    genders = [c.gender for c in clips]
    rows, confusion = [], np.zeros((len(labels), len(labels)), dtype=int)
    folds = [list(f) for f in folds] if folds is not None else [f for f in balanced_folds(clips, n_folds) if f]
    for i, test_speakers in enumerate(folds):
        test = np.flatnonzero(np.isin(speakers, test_speakers))
        train = np.flatnonzero(~np.isin(speakers, test_speakers))
        layers, c, _ = choose_settings(embeddings, y, speakers, train, labels, search)
        head = train_head(embeddings, y, train, labels, layers, c, adapt=search.adapt)
        clean = head_metrics(head, embeddings, y, test, labels, genders, CLEAN)
        telephone = head_metrics(head, embeddings, y, test, labels, genders, TELEPHONE)
        confusion += np.asarray(clean["confusion"])
        row = {"fold": i, "test_speakers": list(test_speakers), "layers": list(layers), "c": c,
               "ua": clean["unweighted_accuracy"], "distress_auc": clean.get("distress_auc"),
               "telephone_ua": telephone["unweighted_accuracy"],
               **{g: m["unweighted_accuracy"] for g, m in clean.get("per_gender", {}).items()}}
        rows.append(row)
        log(f"fold {i} {test_speakers}: layers {layers} C {c:g} UA {row['ua']:.3f} telephone "
            f"{row['telephone_ua']:.3f}")
        if progress_callback:
            progress_callback(i + 1, len(folds), row)
    return {"folds": rows, "confusion": confusion.tolist(), **_fold_means(rows)}


def _fold_means(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("ua", "distress_auc", "telephone_ua", "male", "female"):
        values = [r[key] for r in rows if r.get(key) is not None]
        if values:
            out[key] = {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)}
    if "ua" in out and "telephone_ua" in out:
        out["telephone_drop"] = round(out["ua"]["mean"] - out["telephone_ua"]["mean"], 4)
    if "male" in out and "female" in out:
        out["gender_gap"] = round(out["female"]["mean"] - out["male"]["mean"], 4)
    return out


def cross_corpus_metrics(head: EncoderHead, encoder: WhisperEncoder, clips: Sequence[Clip], fingerprint: str,
                         labels: list[str], cache_dir: Path | None, progress: bool) -> dict[str, Any]:
    """The head on another corpus, on the labels both share (argmax over those), clean and telephone."""
    shared = [lab for lab in labels if lab in {c.label for c in clips}]
    usable = [c for c in clips if c.label in shared]
    embeddings = dataset_embeddings(usable, encoder, fingerprint=fingerprint, cache_dir=cache_dir, progress=progress)
    y = np.array([labels.index(c.label) for c in usable])
    ids = np.arange(len(usable))
    genders = [c.gender for c in usable]
    out: dict[str, Any] = {"labels": shared, "n": len(usable)}
    for name, variant in (("clean", CLEAN), ("telephone", TELEPHONE)):
        m = head_metrics(head, embeddings, y, ids, labels, genders, variant, only_labels=shared)
        # the distress AUC as deployed: over every label the model answers with, not only the shared ones
        deployed = head_metrics(head, embeddings, y, ids, labels, genders, variant)
        out[name] = {"ua": m["unweighted_accuracy"], "wa": m["weighted_accuracy"],
                     "distress_auc": m.get("distress_auc"),
                     "distress_auc_all_labels": deployed.get("distress_auc"),
                     **{g: v["unweighted_accuracy"] for g, v in m.get("per_gender", {}).items()}}
    return out
