"""How the voice counts in triage: model probabilities read through the admin's label mapping.

Probability mass on a label the mapping does not know counts as unknown distress (urgent).
Plain Python, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from core.triage.config import TriageConfig, clamp, is_number
from core.triage.evidence import TriageEvidence


@dataclass(frozen=True)
class AcousticReading:
    """The voice as the triage reads it: distress and prank cue through the label mapping."""

    known: bool
    distress: float
    prank_cue: float
    top_label: str | None
    top_probability: float
    top_prank_label: str | None
    top_prank_probability: float
    unmapped: list[str]


def _clean_probabilities(probs: Mapping[str, float] | None) -> dict[str, float] | None:
    if not isinstance(probs, Mapping):
        return None
    clean: dict[str, float] = {}
    for label, p in probs.items():
        if not isinstance(label, str) or not is_number(p) or not math.isfinite(p) or p <= 0:
            continue
        clean[label] = clean.get(label, 0.0) + float(p)
    total = sum(clean.values())
    if total <= 0:
        return None
    return {label: p / total for label, p in clean.items()}


def read_voice(evidence: TriageEvidence, config: TriageConfig) -> AcousticReading:
    weights = config.weights
    probs = None if evidence.emotion_failed else _clean_probabilities(evidence.emotion_probabilities)
    if probs is None:
        return AcousticReading(False, weights["unknown_distress"], 0.0, None, 0.0, None, 0.0, [])
    intensity = weights["category_distress"]
    distress = 0.0
    prank_cue = 0.0
    top_label, top_part, top_p = None, -1.0, 0.0
    prank_label, prank_p = None, 0.0
    unmapped: list[str] = []
    for label, p in sorted(probs.items()):
        category = config.label_mapping.get(label.strip().lower())
        if category is None:
            unmapped.append(label)
            level = weights["unknown_distress"]
        else:
            level = intensity[category]
            if category == "prank":
                prank_cue += p
                if p > prank_p:
                    prank_label, prank_p = label, p
        part = p * level
        distress += part
        if part > top_part:
            top_label, top_part, top_p = label, part, p
    return AcousticReading(
        True,
        clamp(distress, 0.0, 1.0),
        clamp(prank_cue, 0.0, 1.0),
        top_label,
        top_p,
        prank_label,
        prank_p,
        unmapped,
    )
