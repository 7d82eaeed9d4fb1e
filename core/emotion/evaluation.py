"""Judge a model version on clips it never heard, clean and through a telephone channel.

Any kind of version: each clip goes through the version's own ``classify`` (what a call gets), so
two versions of different kinds are compared on exactly the same clips and the same code path.
Only the labels both the version and the clips know count (the argmax is taken over those), and
the figures are the ones every version's held-out figures use (:func:`core.emotion.metrics.evaluate`).
Plain Python, no Django.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from core import augment
from core.audio import load
from core.emotion.classifier import Classifier
from core.emotion.datasets import Clip
from core.emotion.metrics import evaluate

VARIANTS: tuple[str, ...] = ("clean", "telephone")


def shared_labels(classifier_labels: Sequence[str], clips: Sequence[Clip]) -> list[str]:
    present = {c.label for c in clips}
    return [label for label in classifier_labels if label in present]


def evaluate_on_clips(classifier: Classifier, clips: Sequence[Clip], *,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Figures of `classifier` on `clips` (clean and telephone): UA, WA, per class, per gender,
    distress AUC and the confusion over the shared labels. ``progress(done, total)`` after each clip
    (it may raise to stop the evaluation)."""
    labels = shared_labels(classifier.labels, clips)
    if len(labels) < 2:
        raise ValueError(f"the clips share {len(labels)} label(s) with the model ({', '.join(labels) or 'none'}); "
                         "judging needs at least two")
    usable = [c for c in clips if c.label in labels]
    keep = [classifier.labels.index(label) for label in labels]
    probabilities: dict[str, list[np.ndarray]] = {v: [] for v in VARIANTS}
    for done, clip in enumerate(usable, start=1):
        samples = load(clip.path)
        for variant, audio in (("clean", samples), ("telephone", augment.telephone(samples))):
            scores = classifier.classify(audio).probabilities
            row = np.array([scores.get(classifier.labels[i], 0.0) for i in keep], dtype=np.float64)
            probabilities[variant].append(row / max(row.sum(), 1e-12))
        if progress is not None:
            progress(done, len(usable))
    y = np.array([labels.index(c.label) for c in usable])
    genders = [c.gender for c in usable]
    out: dict[str, Any] = {"labels": labels, "n": len(usable), "speakers": sorted({c.speaker for c in usable})}
    for variant in VARIANTS:
        out[variant] = evaluate(np.stack(probabilities[variant]), y, labels, genders)
    return out


__all__ = ["VARIANTS", "evaluate_on_clips", "shared_labels"]
