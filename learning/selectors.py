"""Reads of the learning side: what a dataset holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .models import Dataset


@dataclass(frozen=True)
class DatasetCounts:
    total: int
    labels: list[str]
    genders: list[str]
    by_label_gender: dict[tuple[str, str], int]
    by_speaker: dict[str, int]
    synthetic: int


def dataset_counts(dataset: Dataset) -> DatasetCounts:
    """Clips per label x gender and per speaker (the explorer's table and chart)."""
    rows = list(dataset.clips.values_list("label", "gender", "speaker", "synthetic"))
    pairs = Counter((label, gender) for label, gender, _, _ in rows)
    return DatasetCounts(
        total=len(rows), labels=sorted({label for label, *_ in rows}),
        genders=sorted({gender for _, gender, *_ in rows}), by_label_gender=dict(pairs),
        by_speaker=dict(sorted(Counter(speaker for _, _, speaker, _ in rows).items())),
        synthetic=sum(1 for *_, synthetic in rows if synthetic),
    )
