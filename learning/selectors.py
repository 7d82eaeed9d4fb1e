"""Reads of the learning side: what a dataset holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .models import ClipChange, Dataset, DatasetClip, Evaluation


@dataclass(frozen=True)
class DatasetCounts:
    total: int
    labels: list[str]
    genders: list[str]
    by_label_gender: dict[tuple[str, str], int]
    by_speaker: dict[str, int]
    synthetic: int


@dataclass(frozen=True)
class ClipNow:
    """A clip with its label as it stands after any logged relabelling, and whether it is excluded."""

    clip: DatasetClip
    label: str
    excluded: bool
    changes: int


def dataset_clips_now(dataset: Dataset) -> list[ClipNow]:
    latest: dict[int, ClipChange] = {}
    counts: Counter[int] = Counter()
    for change in ClipChange.objects.filter(clip__dataset=dataset).order_by("changed_at", "pk"):
        latest[change.clip_id] = change
        counts[change.clip_id] += 1
    return [ClipNow(c, latest[c.pk].label if c.pk in latest else c.label,
                    latest[c.pk].excluded if c.pk in latest else False, counts[c.pk])
            for c in dataset.clips.all()]


def attribute_groups(dataset: Dataset, name: str) -> dict[str, list[float]]:
    """One attribute's values per label (clips in use only)."""
    groups: dict[str, list[float]] = {}
    for now in dataset_clips_now(dataset):
        value = now.clip.attributes.get(name)
        if not now.excluded and value is not None:
            groups.setdefault(now.label, []).append(float(value))
    return dict(sorted(groups.items()))


def dataset_counts(dataset: Dataset) -> DatasetCounts:
    """Clips in use per label x gender and per speaker (the explorer's table and chart)."""
    rows = [(n.label, n.clip.gender, n.clip.speaker, n.clip.synthetic) for n in dataset_clips_now(dataset)
            if not n.excluded]
    pairs = Counter((label, gender) for label, gender, _, _ in rows)
    return DatasetCounts(
        total=len(rows), labels=sorted({label for label, *_ in rows}),
        genders=sorted({gender for _, gender, *_ in rows}), by_label_gender=dict(pairs),
        by_speaker=dict(sorted(Counter(speaker for _, _, speaker, _ in rows).items())),
        synthetic=sum(1 for *_, synthetic in rows if synthetic),
    )


@dataclass(frozen=True)
class EvaluationView:
    """An evaluation of a pair of versions, with each version's figures in the pair's order."""

    evaluation: Evaluation
    figures: list[dict[str, Any] | None]


def evaluations_of(pair: Sequence[Any]) -> list[EvaluationView]:
    """Evaluations that judged exactly these versions (newest first)."""
    ids = sorted(v.pk for v in pair)
    out = []
    for evaluation in Evaluation.objects.filter(versions=pair[0]).select_related("dataset", "started_by").prefetch_related(
            "versions")[:50]:
        if sorted(v.pk for v in evaluation.versions.all()) == ids:
            out.append(EvaluationView(evaluation, [evaluation.results.get(str(v.pk)) for v in pair]))
    return out
