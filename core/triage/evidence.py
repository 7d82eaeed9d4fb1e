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
from typing import TYPE_CHECKING

from core.triage.config import SCORE_MAX, SCORE_MIN, is_number

if TYPE_CHECKING:  # pragma: no cover
    from core.text.analysis import Finding, TextAnalysis


@dataclass(frozen=True)
class Cue:
    """Words in the transcript that raised severity (or hinted at a prank), with their time."""

    phrase: str
    start: float | None = None
    end: float | None = None

    def describe(self) -> str:
        """``'bleeding' at 1.8 s`` (or just ``'bleeding'`` without a time)."""
        return f"'{self.phrase}'" + (f" at {self.start:.1f} s" if self.start is not None else "")


def _cues(findings: list[Finding], kind: str) -> list[Cue]:
    """The findings of one kind as cues, strongest first (then earliest)."""
    chosen = sorted(
        (f for f in findings if f.kind == kind),
        key=lambda f: (-f.weight * f.score, f.start if f.start is not None else math.inf),
    )
    return [Cue(f.matched, f.start, f.end) for f in chosen]


@dataclass(frozen=True)
class WordEvidence:
    """What the words said. ``severity=None`` means unknown (treated as urgent)."""

    severity: float | None = None
    prank_likelihood: float = 0.0
    incident_type: str | None = None
    severity_cues: list[Cue] = field(default_factory=list)
    prank_cues: list[Cue] = field(default_factory=list)
    abusive: bool = False
    no_speech: bool = False  # no words were recognised: a silent caller may be unable to talk
    # The engine was unsure of the words: they may raise the priority, never lower it.
    unsure: bool = False
    word_confidence: float = 1.0

    @classmethod
    def from_text_analysis(cls, analysis: TextAnalysis) -> WordEvidence:
        """The triage's view of a text analysis; no words means severity unknown, and words the
        engine was unsure of keep only what could raise the priority."""
        if not analysis.known:
            return cls(no_speech=True)
        if analysis.unsure:
            return cls(severity=analysis.severity, incident_type=analysis.incident_type,
                       severity_cues=_cues(analysis.findings, "severity"), unsure=True,
                       word_confidence=analysis.word_confidence)
        return cls(
            severity=analysis.severity,
            prank_likelihood=analysis.prank_likelihood,
            incident_type=analysis.incident_type,
            severity_cues=_cues(analysis.findings, "severity"),
            prank_cues=_cues(analysis.findings, "hoax"),
            abusive=analysis.abusive,
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
