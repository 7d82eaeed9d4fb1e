"""Which closed calls supervisors review, and why (APCO/NENA ANS 1.107.1: at least 2 % at random).

A call is picked for each reason that applies: a random share of all calls (so that figures on
the random sample estimate the whole without bias), every call the system suspected as a prank
or ranked below a typical genuine call, every call whose outcome contradicts the system, and
the least certain predictions. Each item keeps its reasons, so figures can be computed per reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from analysis.selectors import CaseAnalysis
from calls.models import Case, Outcome

from .models import AuditReason


@dataclass(frozen=True)
class SamplingConfig:
    random_share: float  # of all closed calls, picked at random
    second_review_share: float  # of picked calls, sent to a second supervisor blind
    uncertain_margin: float  # an emotion top-two margin below this is "uncertain"
    salt: str  # makes the random draw unguessable from outside, reproducible inside

    def __post_init__(self) -> None:
        for name in ("random_share", "second_review_share", "uncertain_margin"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


def sampling_config() -> SamplingConfig:
    return SamplingConfig(random_share=settings.AUDIT_RANDOM_SHARE, second_review_share=settings.AUDIT_SECOND_SHARE,
                          uncertain_margin=settings.AUDIT_UNCERTAIN_MARGIN, salt=settings.AUDIT_SALT)


def uniform_draw(case_id: int, salt: str, purpose: str) -> float:
    """A number in [0, 1) that looks random but is fixed for a case: the same call is always in or
    out of the sample, and nobody can steer it without the salt."""
    digest = hashlib.sha256(f"{salt}:{purpose}:{case_id}".encode()).hexdigest()
    return int(digest[:13], 16) / 16**13


def emotion_margin(analysis: CaseAnalysis) -> float | None:
    """Top probability minus the runner-up's (None without a voice analysis)."""
    if analysis.emotion is None:
        return None
    ranked = sorted(analysis.emotion.probabilities.values(), reverse=True)
    return ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0)


def reasons_for(case: Case, analysis: CaseAnalysis, typical_score: float,
                config: SamplingConfig) -> tuple[list[str], float]:
    """(reasons, uncertainty 0..1) for a closed case; no reasons means it is not reviewed."""
    reasons = []
    if uniform_draw(case.pk, config.salt, "random") < config.random_share:
        reasons.append(AuditReason.RANDOM)
    if case.suspected_prank:
        reasons.append(AuditReason.SUSPECTED_PRANK)
    if case.priority_override is None and case.priority_base < typical_score:
        reasons.append(AuditReason.DEMOTED)
    if (case.outcome == Outcome.PRANK) != case.suspected_prank:
        reasons.append(AuditReason.OUTCOME_DISAGREES)
    margin = emotion_margin(analysis)
    uncertainty = 1.0 - margin if margin is not None else 0.0
    words_unsure = analysis.words is not None and analysis.words.unsure
    voice_unfamiliar = analysis.emotion is not None and analysis.emotion.unfamiliar
    if (margin is not None and margin < config.uncertain_margin) or words_unsure or voice_unfamiliar:
        reasons.append(AuditReason.UNCERTAIN)
    return [str(r) for r in reasons], round(uncertainty, 4)
