"""What a case's score is built from: typed hand-overs from the analysis stages to the policy.

* the words: :meth:`WordEvidence.from_text_analysis` takes the text analysis's own result
  (:class:`core.text.analysis.TextAnalysis`), so every severity and prank cue reaches the score
  with the words the caller said and their time in the call;
* the voice: the emotion model's probabilities per label
  (:class:`core.emotion.prediction.EmotionPrediction.probabilities`);
* the caller's history and a supervisor's override.

Plain Python, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.probability import noisy_or
from core.triage.config import SCORE_MAX, SCORE_MIN, is_number

if TYPE_CHECKING:  # pragma: no cover
    from core.text.analysis import Finding, TextAnalysis


@dataclass(frozen=True)
class Cue:
    """Words in the transcript that raised severity (or hinted at a prank), with their time and
    how sure the recogniser was of them."""

    phrase: str
    start: float | None = None
    end: float | None = None
    confidence: float = 1.0
    strength: float = 0.0  # how far this cue alone moves its part of the score (0..1)

    def describe(self) -> str:
        """``'bleeding' at 1.8 s`` (or just ``'bleeding'`` without a time); unsure words say so."""
        text = f"'{self.phrase}'" + (f" at {self.start:.1f} s" if self.start is not None else "")
        return text + (f" (heard {self.confidence:.0%} sure)" if self.confidence < UNSURE_CUE else "")


#: A cue heard less surely than this says so in its reason.
UNSURE_CUE = 0.6
#: Urgent cues of at least this lexicon weight speak of a threat to life ("not breathing", "knife",
#: "trapped"), not merely of urgency ("help", "hurry", "emergency", which a test call says too).
THREAT_TO_LIFE = 0.7


def _cues(findings: list[Finding], kind: str, *, lowering: bool = False) -> list[Cue]:
    """The findings of one kind as cues, strongest first (then earliest)."""
    def strength(f: Finding) -> float:
        return f.lowering_strength if lowering else f.raising_strength

    chosen = sorted((f for f in findings if f.kind == kind),
                    key=lambda f: (-strength(f), f.start if f.start is not None else math.inf))
    return [Cue(f.matched, f.start, f.end, f.confidence, round(strength(f), 4)) for f in chosen]


def _model_fields(reading: Mapping[str, Any] | None) -> dict[str, Any]:
    if not reading or not is_number(reading.get("p_emergency")):
        return {}
    return {"model_p_emergency": float(reading["p_emergency"]), "model_trust": float(reading.get("trust", 0.0)),
            "model_drivers": list(reading.get("drivers", []))}


@dataclass(frozen=True)
class WordEvidence:
    """What the words said, each cue graded by how sure the recogniser was of its own words.

    ``severity=None`` means unknown (treated as urgent). ``other_confidence`` is the recogniser's
    confidence in the words that are not an urgent cue: the less sure, the more those words might
    hide an emergency (:func:`core.triage.policy.triage` keeps that much of the unknown severity).
    """

    severity: float | None = None
    prank_likelihood: float = 0.0
    incident_type: str | None = None
    severity_cues: list[Cue] = field(default_factory=list)
    prank_cues: list[Cue] = field(default_factory=list)
    abusive: bool = False
    no_speech: bool = False  # no words were recognised: a silent caller may be unable to talk
    word_confidence: float = 1.0
    other_confidence: float = 1.0
    incident_strength: float = 0.0  # how surely the words name the incident (0..1)
    incident_cues: list[Cue] = field(default_factory=list)
    non_emergency_likelihood: float = 0.0
    non_emergency_kind: str = ""
    non_emergency_cues: list[Cue] = field(default_factory=list)
    # how surely the words speak of a threat to life (urgent cues of weight >= THREAT_TO_LIFE)
    threat_to_life: float = 0.0
    # the words model: P(emergency), how far it is trusted (0..1, from its held-out AUC), its drivers
    model_p_emergency: float | None = None
    model_trust: float = 0.0
    model_drivers: list[str] = field(default_factory=list)

    @classmethod
    def from_text_analysis(cls, analysis: TextAnalysis) -> WordEvidence:
        """The triage's view of a text analysis; no words means severity unknown."""
        if not analysis.known:
            return cls(no_speech=True)
        # Words that name the incident ("snake bite", "road accident"), not the service ("police"),
        # and not words already counted as an urgent cue.
        urgent = {c.phrase for c in _cues(analysis.findings, "severity")}
        incident = [f for f in analysis.findings if f.names_incident and f.label == analysis.incident_type
                    and f.matched not in urgent]
        other = analysis.other_confidence
        return cls(
            severity=analysis.severity,
            prank_likelihood=analysis.prank_likelihood,
            incident_type=analysis.incident_type,
            severity_cues=_cues(analysis.findings, "severity"),
            prank_cues=_cues(analysis.findings, "hoax", lowering=True),
            abusive=analysis.abusive,
            word_confidence=analysis.word_confidence,
            # a result stored before this field existed: its mean confidence is the best estimate
            other_confidence=analysis.word_confidence if other is None else other,
            incident_strength=min(1.0, max((f.raising_strength for f in incident), default=0.0)),
            incident_cues=_cues(incident, "incident"),
            non_emergency_likelihood=analysis.non_emergency_likelihood,
            non_emergency_kind=analysis.non_emergency_kind,
            non_emergency_cues=_cues(analysis.findings, "non_emergency", lowering=True),
            threat_to_life=noisy_or(f.raising_strength for f in analysis.findings
                                    if f.kind == "severity" and f.weight >= THREAT_TO_LIFE),
            **_model_fields(analysis.model),
        )


@dataclass(frozen=True)
class TriageEvidence:
    """Everything the score is built from.

    ``emotion_probabilities`` is model label -> probability (``None`` = missing or failed);
    ``words`` is ``None`` when the text analysis is missing. ``confirmed_prank_count`` counts
    confirmed pranks from the same number in the last ``config.prank_history_days`` days.
    """

    emotion_probabilities: Mapping[str, float] | None = None
    emotion_failed: bool = False
    words: WordEvidence | None = None
    transcription_failed: bool = False
    confirmed_prank_count: int = 0
    waiting_seconds: float = 0.0
    override_score: float | None = None
    override_reason: str = ""
    # How far the voice may move the score (0..1: core.triage.acoustic.acoustic_trust of the model
    # version), and whether this recording looked unlike the model's training data.
    acoustic_trust: float = 1.0
    voice_unfamiliar: bool = False
    # The caller is still on the line: what was heard so far may raise the call, never settle it, so
    # the score stays provisional (never below a typical genuine call) until the final analysis.
    in_progress: bool = False

    def __post_init__(self) -> None:
        if self.override_score is not None:
            if (
                not is_number(self.override_score)
                or not math.isfinite(self.override_score)
                or not SCORE_MIN <= self.override_score <= SCORE_MAX
            ):
                raise ValueError(
                    f"override score must be a number from {SCORE_MIN:g} to {SCORE_MAX:g}, "
                    f"got {self.override_score!r}"
                )
            if not str(self.override_reason or "").strip():
                raise ValueError("a priority override needs a reason")
