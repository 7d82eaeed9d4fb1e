"""Triage scoring: a pure function from a case's evidence to a priority score and its reasons.

Plain Python, no Django: :func:`triage` takes a :class:`TriageEvidence` and a
:class:`TriageConfig` and returns a :class:`TriageResult` whose named components
(:class:`Component`) are stored with the score, so an operator sees *why* a call ranks where
it does ("words: 'not breathing' at 2.1 s", "2 confirmed pranks from this number in 7 days").

Score
-----
The *base score* is the evidence-based priority, clamped to ``[SCORE_MIN, SCORE_MAX]`` =
``[0, 100]``::

    base = clamp(baseline
                 + distress_weight      * distress        (0..1, acoustic, pulled to typical by trust)
                 + severity_weight      * severity        (0..1, from the words)
                 + abusive_weight       * abusive         (0 or 1, from the words)
                 - prank_weight         * prank           (0..1, acoustic cue + words + history)
                 - non_emergency_weight * non_emergency)  (0..1, enquiry, wrong number, test call...)

Graded words, no cliff: every cue counts by how sure the recogniser was of *its own* words. An
urgent cue (:attr:`~core.text.analysis.Finding.raising_strength`) keeps at least half its weight
however unsure; a prank or non-emergency cue (``lowering_strength``) counts in full proportion to
its words' confidence. ``severity = noisy_or(urgent cues, incident_severity * incident words,
(1 - confidence of the other words) * unknown_severity)``: words heard surely with nothing urgent
in them say "nothing urgent", unsure ones keep that much of the unknown severity. A
non-emergency cue does not count against words of a threat to life.

A supervisor override replaces the base score outright (it must lie in ``[0, 100]``).

Waiting does not add points: it orders the queue by due time (:mod:`core.triage.waiting`), a
bound per band, so a backlog does not turn the queue into first-come-first-served.

Bands come from the base score (:data:`BANDS`): critical >= 75, high >= 55, normal >= 25,
low below.

Never bury a genuine emergency
------------------------------
* Unknown is not harmless: a missing or failed voice analysis uses ``unknown_distress`` and a
  missing/failed transcript uses ``unknown_severity``, both validated to be at least the
  typical genuine call's values. Such a result is ``provisional`` and never ranks below a typical
  genuine call.
* A silent call (the recogniser worked and heard no words) is its own case: someone who cannot
  speak may be in danger. It is flagged for a call-back at :data:`SILENT_CALL_SCORE` (HIGH, never
  LOW, below a spoken emergency), whatever the voice model made of the silence.
* Probability mass on a model label the mapping does not know counts as unknown distress.
* A suspected prank or non-emergency is demoted by at most ``prank + non_emergency`` points
  (together capped at :data:`MAX_PRANK_WEIGHT`), never dropped, and answered within its band's
  bound. The voice alone never demotes a call below a typical genuine one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from core.contracts import ADDED_LATER, field_values
from core.probability import noisy_or
from core.triage.acoustic import UNFAMILIAR_REASON, AcousticReading, read_voice
from core.triage.config import (
    BANDS,
    DEFAULT_CONFIG,
    SCORE_MAX,
    SCORE_MIN,
    TYPICAL_GENUINE_DISTRESS,
    TYPICAL_GENUINE_SEVERITY,
    TriageConfig,
    band_for,
    clamp,
    is_number,
)
from core.triage.evidence import TriageEvidence, WordEvidence
from core.triage.waiting import allowance, format_wait, wait_reason

__all__ = ["Component", "TriageResult", "format_wait", "score_from_values", "triage", "typical_genuine_score"]

#: A case whose prank likelihood reaches this is marked "suspected prank".
PRANK_SUSPECTED = 0.5
#: The lowest score a call takes without a prank or non-emergency cue (or prank history) at
#: PRANK_SUSPECTED or above: the bottom of the NORMAL band.
LOW_NEEDS_A_CUE = dict(BANDS)["normal"]
#: A case whose non-emergency component reaches this is marked "not an emergency: <kind>".
NON_EMERGENCY_SUSPECTED = 0.5
#: A silent call's base score: in the HIGH band (never LOW), below a spoken emergency.
SILENT_CALL_SCORE = dict(BANDS)["high"] + 1.0
SILENT_REASON = "silent call: no words heard; call back (the caller may be unable to speak)"
#: A component that moved the score by less than this many points is left to the case page.
MIN_REASON_POINTS = 3.0


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
    """The base score, its band and parts; ``score`` equals ``base_score`` (waiting orders the
    queue by due time and adds no points)."""

    score: float
    band: str
    components: list[Component]
    reasons: list[str]
    config_version: int
    provisional: bool
    base_score: float
    overridden: bool = False
    silent_call: bool = field(default=False, metadata=ADDED_LATER)
    non_emergency_kind: str = field(default="", metadata=ADDED_LATER)  # '' or the kind the words showed

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
    non_emergency: float = 0.0,
    model_points: float = 0.0,
) -> float:
    """The base score from component values (``model_points``: the words model's signed points),
    clamped to 0..100."""
    w = config.weights
    raw = (
        w["baseline"]
        + w["distress"] * clamp(distress, 0.0, 1.0)
        + w["severity"] * clamp(severity, 0.0, 1.0)
        + w["abusive"] * (1.0 if abusive else 0.0)
        - w["prank"] * clamp(prank_likelihood, 0.0, 1.0)
        - w["non_emergency"] * clamp(non_emergency, 0.0, 1.0)
        + model_points
    )
    return clamp(raw, SCORE_MIN, SCORE_MAX)


def typical_genuine_score(config: TriageConfig) -> float:
    """The base score of a typical genuine call: the floor for any case not fully analysed."""
    return score_from_values(TYPICAL_GENUINE_DISTRESS, TYPICAL_GENUINE_SEVERITY, 0.0, False, config)


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


def _heard_words(evidence: TriageEvidence) -> WordEvidence | None:
    """The words, when there are words to read (else: unknown, treated as urgent)."""
    words = evidence.words
    if words is None or evidence.transcription_failed or words.no_speech or words.severity is None:
        return None
    return words


def _silent(evidence: TriageEvidence) -> bool:
    """The recogniser worked and heard no words at all."""
    return bool(evidence.words is not None and evidence.words.no_speech and not evidence.transcription_failed)


def _severity_component(evidence: TriageEvidence, words: WordEvidence | None, config: TriageConfig) -> Component:
    w = config.weights
    if words is not None and words.severity is not None:
        heard = clamp(words.severity, 0.0, 1.0)
        incident = w["incident_severity"] * clamp(words.incident_strength, 0.0, 1.0)
        unheard = (1.0 - clamp(words.other_confidence, 0.0, 1.0)) * w["unknown_severity"]
        value = noisy_or((heard, incident, unheard))
        parts = [c.describe() for c in words.severity_cues[:3]]
        if words.incident_cues and incident >= 0.05:
            parts.append(f"{words.incident_cues[0].describe()} ({str(words.incident_type).replace('_', ' ')})")
        if parts:
            reason = "words: " + ", ".join(parts)
        elif unheard >= 0.1:
            reason = f"words unclear ({words.other_confidence:.0%} sure): nothing urgent made out, an emergency not ruled out"
        else:
            reason = "words: nothing urgent heard"
    else:
        value = w["unknown_severity"]
        if evidence.transcription_failed:
            reason = "transcription failed: treated as urgent"
        elif evidence.words is not None and evidence.words.no_speech:
            reason = "no words recognised"
        else:
            reason = "no transcript yet: treated as urgent"
    return Component("severity", value, w["severity"], w["severity"] * value, reason)


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
    if words is not None and words.prank_cues:
        words_text = "words: " + ", ".join(c.describe() for c in words.prank_cues[:2]) + " (possible prank)"
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
    # Only the sources that matter are named: a 0.02 'happy' cue is noise on the row.
    phrases = [text for part, text in sorted(sources, key=lambda s: -s[0]) if part * w["prank"] >= 1.0]
    return Component("prank", value, w["prank"], 0.0 - w["prank"] * value, "; ".join(phrases) or "no prank cues")


def _non_emergency_component(words: WordEvidence | None, config: TriageConfig) -> Component:
    """An enquiry, wrong number, test call, order or service request: demoted and marked, never
    dropped; words of a threat to life cancel it."""
    weight = config.weights["non_emergency"]
    if words is None or not words.non_emergency_cues:
        return Component("non_emergency", 0.0, weight, 0.0, "no words of a non-emergency")
    value = clamp(words.non_emergency_likelihood, 0.0, 1.0) * (1.0 - clamp(words.threat_to_life, 0.0, 1.0))
    kind = words.non_emergency_kind.replace("_", " ") or "non-emergency"
    quoted = ", ".join(c.describe() for c in words.non_emergency_cues[:2])
    return Component("non_emergency", value, weight, 0.0 - weight * value, f"words: {quoted} (sounds like {kind})")


def _words_model_component(words: WordEvidence | None, config: TriageConfig) -> Component:
    """The learned words model: ``weight x trust x (2p - 1)`` points, up for an emergency, down for
    a call that is not one, with the words that drove it."""
    weight = config.weights["words_model"]
    if words is None or words.model_p_emergency is None:
        return Component("words_model", 0.5, weight, 0.0, "no words model reading")
    p = clamp(words.model_p_emergency, 0.0, 1.0)
    points = weight * clamp(words.model_trust, 0.0, 1.0) * (2.0 * p - 1.0)
    said = "an emergency" if p >= 0.5 else "not an emergency"
    drivers = ", ".join(f"'{d}'" for d in words.model_drivers[:3])
    reason = f"words model: {said} ({p:.0%}{'; ' + drivers if drivers else ''})"
    return Component("words_model", p, weight, points, reason)


def _voice_neutral(evidence: TriageEvidence) -> TriageEvidence:
    """The same evidence with a voice that says nothing."""
    return replace(evidence, acoustic_trust=0.0, voice_unfamiliar=False,
                   emotion_probabilities=evidence.emotion_probabilities or {"neutral": 1.0}, emotion_failed=False)


def _against_without_the_voice(evidence: TriageEvidence, config: TriageConfig) -> tuple[float, float]:
    """(base score, evidence against the call) that the same words and history give with a voice
    that says nothing."""
    neutral = _voice_neutral(evidence)
    voice = read_voice(neutral, config)
    words = _heard_words(neutral)
    severity = _severity_component(neutral, words, config)
    prank = _prank_component(neutral, words, voice, config)
    non_emergency = _non_emergency_component(words, config)
    model = _words_model_component(words, config)
    score = score_from_values(voice.distress, severity.value, prank.value, bool(words and words.abusive), config,
                              non_emergency.value, model.contribution)
    # the words model speaks against a call as far as it moved it down: trust x (1 - 2p)
    model_against = max(0.0, -model.contribution / model.weight) if model.weight > 0 else 0.0
    # A cue the settings give no weight does not lower the call, so it cannot speak against it either.
    against = [c.value for c in (prank, non_emergency) if c.weight > 0]
    return score, noisy_or((*against, model_against))


def _moved(c: Component, config: TriageConfig) -> float:
    """Points by which a component moved the score away from a typical call's."""
    if c.name == "distress":
        return c.weight * (c.value - TYPICAL_GENUINE_DISTRESS)
    return c.contribution


def _reasons(components: list[Component], *, override_reason: str | None, config: TriageConfig,
             max_reasons: int) -> list[str]:
    """The few reasons an operator reads first: override, unknowns, then what moved the score most.
    Cues too small to matter and the model's caveats stay on the case page (the components)."""
    by_name = {c.name: c for c in components}
    reasons: list[str] = [override_reason] if override_reason else []
    for c in (by_name["distress"], by_name["severity"]):
        # Unknown results always show: the operator must see that the score is a safe guess.
        if "treated as urgent" in c.reason and c.reason not in reasons:
            reasons.append(c.reason)
    ranked = sorted((c for c in components if c.name not in ("baseline", "override", "waiting")),
                    key=lambda c: -abs(_moved(c, config)))
    for c in ranked:
        if abs(_moved(c, config)) >= MIN_REASON_POINTS and c.reason not in reasons:
            reasons.append(c.reason)
    if not reasons:
        # Nothing moved the score: still say what the words were.
        reasons = [by_name["severity"].reason]
    return reasons[: max(1, max_reasons)]


def _silent_result(evidence: TriageEvidence, config: TriageConfig, waiting: float) -> TriageResult:
    """No words heard: a call-back at SILENT_CALL_SCORE, whatever the voice model made of silence."""
    w = config.weights
    parts = [
        Component("baseline", 1.0, w["baseline"], w["baseline"], "every call"),
        Component("distress", TYPICAL_GENUINE_DISTRESS, w["distress"], w["distress"] * TYPICAL_GENUINE_DISTRESS,
                  "no speech: the voice is not read"),
        Component("severity", 0.0, w["severity"], 0.0, "no words recognised"),
        Component("prank", 0.0, w["prank"], 0.0, "not judged on a silent call"),
    ]
    parts.append(Component("silent", 1.0, 1.0, SILENT_CALL_SCORE - sum(c.contribution for c in parts), SILENT_REASON))
    parts.append(_waiting_component(SILENT_CALL_SCORE, waiting, config))
    return TriageResult(score=SILENT_CALL_SCORE, band=band_for(SILENT_CALL_SCORE), components=parts,
                        reasons=[SILENT_REASON], config_version=config.version, provisional=False,
                        base_score=SILENT_CALL_SCORE, silent_call=True)


def _waiting_component(base: float, waiting: float, config: TriageConfig) -> Component:
    """The wait orders the queue (due time), it adds no points: contribution 0, weight = bound."""
    return Component("waiting", waiting, allowance(base, config), 0.0, wait_reason(base, waiting, config))


def triage(
    evidence: TriageEvidence,
    config: TriageConfig = DEFAULT_CONFIG,
    max_reasons: int = 3,
) -> TriageResult:
    """Score one case. Pure: same evidence and config, same result; inputs are not changed."""
    w = config.weights
    waiting = _waiting(evidence.waiting_seconds)
    if evidence.override_score is None and _silent(evidence):
        return _silent_result(evidence, config, waiting)

    voice = read_voice(evidence, config)
    words = _heard_words(evidence)
    distress = _distress_component(evidence, voice, config)
    severity = _severity_component(evidence, words, config)
    abusive = _abusive_component(words, config)
    prank = _prank_component(evidence, words, voice, config)
    non_emergency = _non_emergency_component(words, config)
    model = _words_model_component(words, config)
    components = [Component("baseline", 1.0, w["baseline"], w["baseline"], "every call"),
                  distress, severity, abusive, prank, non_emergency, model]
    evidence_base = score_from_values(voice.distress, severity.value, prank.value, bool(abusive.value), config,
                                      non_emergency.value, model.contribution)
    provisional = not voice.known or words is None or evidence.in_progress
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
            why = ("call in progress: kept at least at a typical genuine call's priority" if evidence.in_progress
                   else "analysis incomplete: kept at a typical genuine call's priority")
            components.append(Component("unknown_floor", floor, 1.0, floor - raw, why))
            base = floor
        neutral_score, against_without_voice = _against_without_the_voice(evidence, config)
        voice_floor = min(floor, neutral_score)
        if base < voice_floor and against_without_voice < PRANK_SUSPECTED:
            # The voice alone never demotes a call below a typical genuine one: a demotion needs
            # the words or the caller's history to speak against the call as well.
            raw = sum(c.contribution for c in components)
            components.append(Component("voice_floor", voice_floor, 1.0, voice_floor - raw,
                                        "the voice alone does not lower a call below a typical genuine one"))
            base = voice_floor
        cues_against = noisy_or(c.value for c in (prank, non_emergency) if c.weight > 0)
        if base < LOW_NEEDS_A_CUE and cues_against < PRANK_SUSPECTED:
            # LOW (answered last, within half an hour) takes words an operator can read against the
            # call: a prank or non-emergency cue or the caller's history, not the words model alone
            # (it once read a mumbled silent call as "I don't know what you're talking about").
            raw = sum(c.contribution for c in components)
            components.append(Component("low_floor", LOW_NEEDS_A_CUE, 1.0, LOW_NEEDS_A_CUE - raw,
                                        "no cue against the call: not lower than NORMAL"))
            base = LOW_NEEDS_A_CUE
    components.append(_waiting_component(base, waiting, config))
    reasons = _reasons(components, override_reason=override_reason, config=config, max_reasons=max_reasons)
    marked = non_emergency.value >= NON_EMERGENCY_SUSPECTED and words is not None
    return TriageResult(
        score=base,
        band=band_for(base),
        components=components,
        reasons=reasons,
        config_version=config.version,
        provisional=provisional,
        base_score=base,
        overridden=override_reason is not None,
        non_emergency_kind=(words.non_emergency_kind or "non_emergency") if marked and words else "",
    )
