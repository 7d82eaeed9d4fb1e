"""Triage scoring: a pure function from a case's evidence to a priority score and its reasons.

Plain Python, no Django: :func:`triage` takes a :class:`TriageEvidence` and a
:class:`TriageConfig` and returns a :class:`TriageResult` whose named components
(:class:`Component`) are stored with the score, so an operator sees *why* a call ranks where
it does ("sounds fearful 0.82", "words: 'not breathing'", "2 confirmed pranks from this number
in 7 days", "waiting 3 min 10 s").

Score
-----
The *base score* is the evidence-based priority, clamped to ``[SCORE_MIN, SCORE_MAX]`` =
``[0, 100]``::

    base = clamp(baseline
                 + distress_weight * distress          (0..1, acoustic)
                 + severity_weight * severity          (0..1, from the words)
                 + abusive_weight  * abusive           (0 or 1, from the words)
                 - prank_weight    * prank_likelihood  (0..1, acoustic cue + words + history))

A supervisor override replaces the base score outright (it must lie in ``[0, 100]``).

The *score* adds waiting time, linearly, so the queue can order in SQL::

    score = base + wait_rate(config) * waiting_seconds
    wait_rate = (SCORE_MAX - SCORE_MIN + WAIT_MARGIN) / max_wait_seconds   # points per second

With the default 180 s maximum wait the rate is 101 / 180 ≈ 0.561 points per second. Because
every base score (override included) lies in ``[0, 100]``, a case that has waited
``max_wait_seconds`` has a score of at least ``0 + 101`` and so beats every fresh case (at
most ``100``) whatever the evidence, the weights or the config version said. Store
``base_score`` (and ``received_at``) and order the queue by
``base_score + rate * (now - received_at)``; see :func:`effective_score`.

Bands come from the base score (:data:`BANDS`): critical >= 75, high >= 55, normal >= 25,
low below. They describe the call; waiting time changes the order, not the band.

Never bury a genuine emergency
------------------------------
* Unknown is not harmless: a missing or failed voice analysis uses ``unknown_distress`` and a
  missing/failed/empty transcript uses ``unknown_severity``, both validated to be at least the
  typical genuine call's values (:data:`TYPICAL_GENUINE_DISTRESS`,
  :data:`TYPICAL_GENUINE_SEVERITY`). Such a result is ``provisional``.
* Probability mass on a model label the mapping does not know counts as unknown distress.
* A suspected prank is demoted by at most ``prank_weight`` points (capped at
  :data:`MAX_PRANK_WEIGHT`), never dropped, and waiting time still lifts it to the top.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from core.contracts import field_values
from core.probability import noisy_or
from core.triage.acoustic import UNFAMILIAR_REASON, AcousticReading, read_voice
from core.triage.config import (
    DEFAULT_CONFIG,
    SCORE_MAX,
    SCORE_MIN,
    TYPICAL_GENUINE_DISTRESS,
    TYPICAL_GENUINE_SEVERITY,
    TriageConfig,
    band_for,
    clamp,
    is_number,
    wait_rate,
)
from core.triage.evidence import TriageEvidence, WordEvidence


def effective_score(base_score_without_wait: float, waiting_seconds: float, config: TriageConfig) -> float:
    """The live queue score: ``base + wait_rate(config) * waiting_seconds``.

    Linear in the waiting time so the database can order by it, e.g.
    ``base_score + rate * (now - received_at)`` with ``rate = wait_rate(config)``. A base outside
    ``[0, 100]`` is clamped, which is what keeps "after max wait, first" true.
    """
    base = clamp(_finite_or(base_score_without_wait, SCORE_MAX), SCORE_MIN, SCORE_MAX)
    return base + wait_rate(config) * _waiting(waiting_seconds)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """One named part of the score: ``contribution`` points, explained by ``reason``."""

    name: str
    value: float
    weight: float
    contribution: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Component:
        return cls(**field_values(cls, data))


@dataclass(frozen=True)
class TriageResult:
    """``score`` = ``base_score`` + waiting time at evaluation; ``band`` is from ``base_score``."""

    score: float
    band: str
    components: list[Component]
    reasons: list[str]
    config_version: int
    provisional: bool
    base_score: float
    overridden: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "components": [c.to_dict() for c in self.components]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TriageResult:
        values = field_values(cls, data)
        values["components"] = [Component.from_dict(c) for c in data["components"]]
        values["reasons"] = list(data["reasons"])
        return cls(**values)


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def _finite_or(x: Any, default: float) -> float:
    return float(x) if is_number(x) and math.isfinite(x) else default


def _waiting(seconds: Any) -> float:
    return max(0.0, _finite_or(seconds, 0.0))


def _fmt(p: float) -> str:
    return f"{p:.2f}"


def format_wait(seconds: float) -> str:
    """``190`` -> ``"3 min 10 s"``; ``45`` -> ``"45 s"``; ``3725`` -> ``"1 h 2 min"``."""
    total = int(_waiting(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def _history_likelihood(count: int) -> float:
    # Each confirmed prank halves the chance that the next call is genuine-by-default:
    # 1 -> 0.5, 2 -> 0.75, 3 -> 0.875. Bounded below 1.
    return 1.0 - 0.5 ** max(0, count)


def score_from_values(
    distress: float,
    severity: float,
    prank_likelihood: float,
    abusive: bool,
    config: TriageConfig = DEFAULT_CONFIG,
) -> float:
    """The base score (no waiting time) from component values, clamped to 0..100."""
    w = config.weights
    raw = (
        w["baseline"]
        + w["distress"] * clamp(distress, 0.0, 1.0)
        + w["severity"] * clamp(severity, 0.0, 1.0)
        + w["abusive"] * (1.0 if abusive else 0.0)
        - w["prank"] * clamp(prank_likelihood, 0.0, 1.0)
    )
    return clamp(raw, SCORE_MIN, SCORE_MAX)


def typical_genuine_score(config: TriageConfig) -> float:
    """The base score of a typical genuine call: the floor for any case not fully analysed."""
    return score_from_values(TYPICAL_GENUINE_DISTRESS, TYPICAL_GENUINE_SEVERITY, 0.0, False, config)


#: A case whose prank likelihood reaches this is marked "suspected prank".
PRANK_SUSPECTED = 0.5


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _distress_component(evidence: TriageEvidence, voice: AcousticReading, config: TriageConfig) -> Component:
    if not voice.known:
        why = "failed" if evidence.emotion_failed or evidence.emotion_probabilities else "missing"
        reason = f"voice analysis {why}: treated as urgent"
    elif voice.top_label is not None and voice.top_label in voice.unmapped:
        reason = f"sounds {voice.top_label} {_fmt(voice.top_probability)} (label not in the mapping: treated as urgent)"
    else:
        reason = f"sounds {voice.top_label} {_fmt(voice.top_probability)}"
        if voice.unfamiliar:
            reason += f"; {UNFAMILIAR_REASON}"
        elif voice.trust < 1.0:
            reason += f" (model trust {_fmt(voice.trust)})"
    weight = config.weights["distress"]
    return Component("distress", voice.distress, weight, weight * voice.distress, reason)


def _known_words(evidence: TriageEvidence) -> WordEvidence | None:
    """The words, when they can be trusted to say something (else: unknown, treated as urgent)."""
    words = evidence.words
    if words is None or evidence.transcription_failed or words.no_speech or words.unsure \
            or words.severity is None:
        return None
    return words


def _severity_component(evidence: TriageEvidence, words: WordEvidence | None, config: TriageConfig) -> Component:
    if words is not None and words.severity is not None:
        value = clamp(words.severity, 0.0, 1.0)
        if words.severity_cues:
            reason = "words: " + ", ".join(c.describe() for c in words.severity_cues[:3])
        elif words.incident_type and value > 0:
            reason = f"words suggest {words.incident_type} (severity {_fmt(value)})"
        else:
            reason = f"words: no severity cues (severity {_fmt(value)})"
    elif evidence.words is not None and evidence.words.unsure and not evidence.transcription_failed:
        unsure = evidence.words
        value = max(config.weights["unknown_severity"], clamp(unsure.severity or 0.0, 0.0, 1.0))
        heard = (": " + ", ".join(c.describe() for c in unsure.severity_cues[:3])) if unsure.severity_cues else ""
        reason = f"words unsure (confidence {_fmt(unsure.word_confidence)}){heard}: treated as urgent"
    else:
        value = config.weights["unknown_severity"]
        if evidence.transcription_failed:
            reason = "transcription failed: treated as urgent"
        elif evidence.words is not None and evidence.words.no_speech:
            reason = "no words recognised: treated as urgent"
        else:
            reason = "no transcript yet: treated as urgent"
    weight = config.weights["severity"]
    return Component("severity", value, weight, weight * value, reason)


def _abusive_component(words: WordEvidence | None, config: TriageConfig) -> Component:
    abusive = bool(words is not None and words.abusive)
    weight = config.weights["abusive"]
    return Component("abusive", 1.0 if abusive else 0.0, weight, weight if abusive else 0.0,
                     "words: abusive language" if abusive else "no abusive language")


def _prank_component(evidence: TriageEvidence, words: WordEvidence | None, voice: AcousticReading,
                     config: TriageConfig) -> Component:
    """Noisy-OR of the acoustic cue, the word cues and the caller's history."""
    w = config.weights
    word_prank = clamp(words.prank_likelihood, 0.0, 1.0) if words is not None else 0.0
    count = max(0, int(evidence.confirmed_prank_count or 0))
    if evidence.words is not None and evidence.words.prank_cues:
        words_text = "words: " + ", ".join(c.describe() for c in evidence.words.prank_cues[:2]) + " (possible prank)"
    else:
        words_text = f"words suggest a prank {_fmt(word_prank)}"
    sources = [
        (w["prank_acoustic"] * voice.prank_cue,
         f"sounds {voice.top_prank_label} {_fmt(voice.top_prank_probability)} (possible prank cue)"),
        (w["prank_words"] * word_prank, words_text),
        (w["prank_history"] * _history_likelihood(count),
         f"{_plural(count, 'confirmed prank')} from this number in {_plural(config.prank_history_days, 'day')}"),
    ]
    value = clamp(noisy_or(part for part, _ in sources), 0.0, 1.0)
    phrases = [text for part, text in sorted(sources, key=lambda s: -s[0]) if part > 0]
    return Component("prank", value, w["prank"], 0.0 - w["prank"] * value, "; ".join(phrases) or "no prank cues")


def _without_the_voice(evidence: TriageEvidence, config: TriageConfig) -> tuple[float, float]:
    """(base score, prank likelihood) that the same words and history give with a voice that says
    nothing."""
    from dataclasses import replace

    neutral = replace(evidence, acoustic_trust=0.0, voice_unfamiliar=False,
                      emotion_probabilities=evidence.emotion_probabilities or {"neutral": 1.0}, emotion_failed=False)
    voice = read_voice(neutral, config)
    words = _known_words(neutral)
    severity = _severity_component(neutral, words, config)
    prank = _prank_component(neutral, words, voice, config)
    score = score_from_values(voice.distress, severity.value, prank.value, bool(words and words.abusive), config)
    return score, prank.value


def _reasons(components: list[Component], *, override_reason: str | None, waiting: float, wait_reason: str,
             config: TriageConfig, max_reasons: int) -> list[str]:
    """The few reasons an operator reads first: override, unknowns, then the biggest parts."""
    by_name = {c.name: c for c in components}
    reasons: list[str] = [override_reason] if override_reason else []
    # Unknown or discounted results always show: the operator must see that the score is a safe guess.
    for c in (by_name["distress"], by_name["severity"]):
        if ("treated as urgent" in c.reason or UNFAMILIAR_REASON in c.reason) and c.reason not in reasons:
            reasons.append(c.reason)
    ranked = sorted((c for c in components if c.name not in ("baseline", "override")),
                    key=lambda c: -abs(c.contribution))
    for c in ranked:
        if abs(c.contribution) > 1e-9 and c.reason not in reasons:
            reasons.append(c.reason)
    if not reasons:
        # Nothing moved the score: still say what the voice and the words were.
        reasons = [by_name["distress"].reason, by_name["severity"].reason]
    limit = max(1, max_reasons)
    reasons = reasons[:limit]
    if waiting >= config.max_wait_seconds and wait_reason not in reasons:
        # Past the maximum wait, the wait is why the case is first: always say so.
        reasons = reasons[: limit - 1] + [wait_reason] if not (override_reason and limit == 1) else reasons
    return reasons


def triage(
    evidence: TriageEvidence,
    config: TriageConfig = DEFAULT_CONFIG,
    max_reasons: int = 3,
) -> TriageResult:
    """Score one case. Pure: same evidence and config, same result; inputs are not changed."""
    w = config.weights
    waiting = _waiting(evidence.waiting_seconds)
    rate = wait_rate(config)
    wait_reason = f"waiting {format_wait(waiting)}"

    voice = read_voice(evidence, config)
    words = _known_words(evidence)
    distress = _distress_component(evidence, voice, config)
    severity = _severity_component(evidence, words, config)
    abusive = _abusive_component(words, config)
    prank = _prank_component(evidence, words, voice, config)
    components = [Component("baseline", 1.0, w["baseline"], w["baseline"], "every call"),
                  distress, severity, abusive, prank]
    evidence_base = score_from_values(voice.distress, severity.value, prank.value, bool(abusive.value), config)
    provisional = not voice.known or words is None
    override_reason = None
    if evidence.override_score is not None:
        base = float(evidence.override_score)
        override_reason = f"supervisor override: {str(evidence.override_reason).strip()}"
        components.append(Component("override", base, 1.0, base - evidence_base, override_reason))
        provisional = False
    else:
        base = evidence_base
        floor = typical_genuine_score(config)
        if provisional and base < floor:
            # Half-known is not harmless: whatever the known half says, a case whose voice or
            # words are unknown never ranks below a typical genuine call.
            raw = sum(c.contribution for c in components)  # before clamping, so parts add up
            components.append(Component("unknown_floor", floor, 1.0, floor - raw,
                                        "analysis incomplete: kept at a typical genuine call's priority"))
            base = floor
        neutral_score, prank_without_voice = _without_the_voice(evidence, config)
        voice_floor = min(floor, neutral_score)
        if base < voice_floor and prank_without_voice < PRANK_SUSPECTED:
            # The voice alone never demotes a call below a typical genuine one: a prank demotion
            # needs the words or the caller's history to suggest a prank as well.
            raw = sum(c.contribution for c in components)
            components.append(Component("voice_floor", voice_floor, 1.0, voice_floor - raw,
                                        "the voice alone does not lower a call below a typical genuine one"))
            base = voice_floor
    components.append(Component("waiting", waiting, rate, rate * waiting, wait_reason))
    reasons = _reasons(components, override_reason=override_reason, waiting=waiting, wait_reason=wait_reason,
                       config=config, max_reasons=max_reasons)
    return TriageResult(
        score=base + rate * waiting,
        band=band_for(base),
        components=components,
        reasons=reasons,
        config_version=config.version,
        provisional=provisional,
        base_score=base,
        overridden=override_reason is not None,
    )
