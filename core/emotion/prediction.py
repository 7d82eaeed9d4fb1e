"""The emotion step's result: how the caller sounds, and a hint of the voice's gender.

:class:`EmotionPrediction` is what the classifier returns, what the analysis stores on its
step (``to_dict`` / ``from_dict``) and what the triage reads (its ``probabilities``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from core.contracts import ADDED_LATER, field_values


@dataclass(frozen=True)
class GenderEstimate:
    """A hint for the operator, never a triage input."""

    label: str  # 'female' | 'male' | 'unknown'
    confidence: float  # probability of `label` (0.5-1.0), 0.0 when unknown for lack of speech
    median_f0_hz: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GenderEstimate:
        return cls(**field_values(cls, data))


@dataclass(frozen=True)
class EmotionPrediction:
    label: str  # the most probable model label
    probabilities: dict[str, float]  # every label of the model version, summing to 1
    model_version: str
    seconds: float  # processing time
    gender: GenderEstimate | None = None
    # The recording looks unlike the model's training data (an embedding far from the training
    # clips', or probabilities nearly flat): the triage then discounts the voice.
    unfamiliar: bool = field(default=False, metadata=ADDED_LATER)
    # about 1 for a typical training clip, where the model can tell
    unfamiliarity: float | None = field(default=None, metadata=ADDED_LATER)
    # a version that adapts to its deployment: how many of the deployment's calls the voice was
    # standardised by (0: the training data's statistics alone); None for versions that do not adapt
    baseline_calls: int | None = field(default=None, metadata=ADDED_LATER)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmotionPrediction:
        values = field_values(cls, data)
        values["probabilities"] = {str(k): float(v) for k, v in data["probabilities"].items()}
        gender = values.get("gender")
        values["gender"] = GenderEstimate.from_dict(gender) if gender is not None else None
        return cls(**values)
