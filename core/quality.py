"""How good the machine's labels are, against people's: the statistics behind the audit dashboard.

Plain Python, no Django: Wilson intervals for rates, precision and recall per class with the
confusion matrix, Cohen's kappa between two raters, word error rate of a transcript.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Rate:
    """A proportion with its 95 % Wilson score interval and the counts behind it."""

    hits: int
    total: int
    value: float | None
    low: float | None
    high: float | None


def wilson(hits: int, total: int, z: float = Z_95) -> Rate:
    """The Wilson score interval: sensible at 0, at 1 and for small counts (unlike p ± z·se)."""
    if total <= 0:
        return Rate(hits, total, None, None, None)
    p = hits / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    # Rounding can put a bound a hair past the estimate at 0 or all hits; the interval holds p.
    return Rate(hits, total, p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


@dataclass(frozen=True)
class ClassAgreement:
    label: str
    precision: float | None  # of the machine's answers with this label, the share people agreed with
    recall: float | None  # of the calls people gave this label, the share the machine gave it too
    support: int  # calls people gave this label


def confusion(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Rows: what people said; columns: what the machine said."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    return matrix


def agreement(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> list[ClassAgreement]:
    matrix = confusion(truth, predicted, labels)
    out = []
    for i, label in enumerate(labels):
        true_positive = matrix[i][i]
        said = sum(row[i] for row in matrix)
        actual = sum(matrix[i])
        out.append(ClassAgreement(label, true_positive / said if said else None,
                                  true_positive / actual if actual else None, actual))
    return out


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Agreement between two raters beyond what chance would give (1 perfect, 0 chance)."""
    n = len(first)
    if n == 0 or n != len(second):
        return None
    labels = sorted(set(first) | set(second))
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    expected = sum((first.count(label) / n) * (second.count(label) / n) for label in labels)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else None
    return (observed - expected) / (1 - expected)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float | None:
    """Word-level edit distance over all pairs / reference words (words lower-cased, punctuation off)."""
    edits = words = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        ref, hyp = _words(reference), _words(hypothesis)
        edits += Levenshtein.distance(ref, hyp)
        words += len(ref)
    return edits / words if words else None


def _words(text: str) -> list[str]:
    cleaned = "".join(c.lower() if c.isalnum() or c == "'" else " " for c in text)
    return cleaned.split()


@dataclass(frozen=True)
class AucInterval:
    """ROC AUC of scores against yes/no truth, with a 95 % interval."""

    auc: float | None
    low: float | None
    high: float | None
    positives: int
    negatives: int


def auc_interval(scores: Sequence[float], truth: Sequence[bool], z: float = Z_95) -> AucInterval:
    """The chance that a random positive scores above a random negative (ties count half).

    The interval is the wider of Hanley & McNeil's (1982) and a Wilson interval on an effective
    sample of ``2·P·N / (P + N)`` pairs: the two agree near 0.5, and the Wilson one does not
    collapse to a point at a perfect separation of few calls (Hanley & McNeil's variance is 0 there).
    """
    pos = [s for s, t in zip(scores, truth, strict=True) if t]
    neg = [s for s, t in zip(scores, truth, strict=True) if not t]
    if not pos or not neg:
        return AucInterval(None, None, None, len(pos), len(neg))
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    auc = wins / (len(pos) * len(neg))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (len(pos) - 1) * (q1 - auc * auc) + (len(neg) - 1) * (q2 - auc * auc)) \
        / (len(pos) * len(neg))
    half = z * math.sqrt(max(0.0, variance))
    effective = 2 * len(pos) * len(neg) / (len(pos) + len(neg))
    denominator = 1 + z * z / effective
    centre = (auc + z * z / (2 * effective)) / denominator
    spread = z * math.sqrt(auc * (1 - auc) / effective + z * z / (4 * effective * effective)) / denominator
    low = min(auc - half, centre - spread)
    high = max(auc + half, centre + spread)
    return AucInterval(auc, max(0.0, min(auc, low)), min(1.0, max(auc, high)), len(pos), len(neg))
