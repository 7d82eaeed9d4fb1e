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
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

#: The triage categories operators see.
CATEGORIES: tuple[str, ...] = (
    "angry",
    "stressful",
    "painful",
    "drunk",
    "abusive",
    "prank",
    "calm",
)

#: Categories the word analysis can detect whatever the acoustic model is.
WORD_CATEGORIES: frozenset[str] = frozenset({"abusive", "prank"})

NOT_DETECTED = "not detected by this model"

SCORE_MIN = 0.0
SCORE_MAX = 100.0
#: Points by which a case that has waited ``max_wait_seconds`` beats the best fresh case.
WAIT_MARGIN = 1.0

#: (band, lowest base score in it), highest band first.
BANDS: tuple[tuple[str, float], ...] = (
    ("critical", 75.0),
    ("high", 55.0),
    ("normal", 25.0),
    ("low", SCORE_MIN),
)
BAND_NAMES: tuple[str, ...] = tuple(name for name, _ in BANDS)

#: Component values of a typical genuine call; "unknown" must never score below them.
TYPICAL_GENUINE_DISTRESS = 0.5
TYPICAL_GENUINE_SEVERITY = 0.5

#: The prank penalty may demote a call by at most this many points.
MAX_PRANK_WEIGHT = 50.0

#: Model label -> triage category. Covers RAVDESS and the 112 scheme.
#: ``disgust`` maps to ``angry``: in an emergency call disgust is an aroused, negative state
#: (revulsion at a scene, hostility to someone present) closer to anger than to calm; mapping
#: it to calm would understate a genuine call and mapping it to prank would punish one.
#: ``happy``/``surprised`` map to ``prank`` as a *cue* that lowers the score a little, not a
#: verdict.
DEFAULT_LABEL_MAPPING: dict[str, str] = {
    # RAVDESS
    "neutral": "calm",
    "calm": "calm",
    "happy": "prank",
    "sad": "painful",
    "angry": "angry",
    "fearful": "stressful",
    "disgust": "angry",
    "surprised": "prank",
    # 112 scheme
    "drunk": "drunk",
    "painful": "painful",
    "stressful": "stressful",
}

#: Weights an admin edits. Point weights are in score points; the others are in 0..1.
DEFAULT_WEIGHTS: dict[str, Any] = {
    "baseline": 25.0,  # points every call starts with
    "distress": 30.0,  # points at full acoustic distress
    "severity": 45.0,  # points at full severity from the words
    "abusive": 0.0,  # points for abusive language (shown as a reason either way)
    "prank": 25.0,  # most points a certain prank loses (<= MAX_PRANK_WEIGHT)
    "unknown_distress": 0.65,  # distress used when the voice analysis is missing or failed
    "unknown_severity": 0.65,  # severity used when the words are missing, failed or empty
    "prank_acoustic": 0.4,  # how much an acoustic prank cue counts (0..1)
    "prank_words": 0.9,  # how much the words' prank likelihood counts (0..1)
    "prank_history": 0.8,  # how much confirmed pranks from the number count (0..1)
    # how distressing each category sounds (0..1); distress = sum P(category) * this
    "category_distress": {
        "angry": 0.7,
        "stressful": 1.0,
        "painful": 1.0,
        "drunk": 0.4,
        "abusive": 0.5,
        "prank": 0.0,
        "calm": 0.0,
    },
}

_POINT_WEIGHTS = ("baseline", "distress", "severity", "abusive", "prank")
_UNIT_WEIGHTS = ("prank_acoustic", "prank_words", "prank_history")
_UNKNOWN_WEIGHTS = {
    "unknown_distress": TYPICAL_GENUINE_DISTRESS,
    "unknown_severity": TYPICAL_GENUINE_SEVERITY,
}


class ConfigError(ValueError):
    """Triage weights or label mapping an admin entered that cannot be used."""


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_number(key: str, value: object, low: float, high: float) -> float:
    if not _is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
        raise ConfigError(f"weight {key!r} must be a finite number, got {value!r}")
    number = float(value)  # type: ignore[arg-type]
    if number < 0:
        raise ConfigError(f"weight {key!r} must not be negative, got {number}")
    if not low <= number <= high:
        raise ConfigError(f"weight {key!r} must be between {low:g} and {high:g}, got {number}")
    return number


def validate_weights(weights: Mapping[str, Any]) -> dict[str, Any]:
    """Check admin-entered weights; return a complete copy (missing keys from the defaults)."""
    if not isinstance(weights, Mapping):
        raise ConfigError(f"weights must be a mapping, got {type(weights).__name__}")
    unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
    if unknown:
        raise ConfigError(
            f"unknown weight(s): {', '.join(map(repr, unknown))}; known: {', '.join(sorted(DEFAULT_WEIGHTS))}"
        )
    merged: dict[str, Any] = {}
    for key in _POINT_WEIGHTS:
        high = MAX_PRANK_WEIGHT if key == "prank" else SCORE_MAX
        merged[key] = _check_number(key, weights.get(key, DEFAULT_WEIGHTS[key]), 0.0, high)
    for key in _UNIT_WEIGHTS:
        merged[key] = _check_number(key, weights.get(key, DEFAULT_WEIGHTS[key]), 0.0, 1.0)
    for key, floor in _UNKNOWN_WEIGHTS.items():
        value = weights.get(key, DEFAULT_WEIGHTS[key])
        number = _check_number(key, value, 0.0, 1.0)
        if number < floor:
            raise ConfigError(
                f"weight {key!r} must be at least {floor:g} (a typical genuine call): "
                f"an unknown result must not rank below one, got {number}"
            )
        merged[key] = number

    given = weights.get("category_distress", DEFAULT_WEIGHTS["category_distress"])
    if not isinstance(given, Mapping):
        raise ConfigError("weight 'category_distress' must be a mapping of category to 0..1")
    bad = sorted(set(given) - set(CATEGORIES))
    if bad:
        raise ConfigError(
            f"'category_distress' has unknown categor{'y' if len(bad) == 1 else 'ies'}: "
            f"{', '.join(map(repr, bad))}; known: {', '.join(CATEGORIES)}"
        )
    category_distress = dict(DEFAULT_WEIGHTS["category_distress"])
    for category, value in given.items():
        category_distress[category] = _check_number(f"category_distress.{category}", value, 0.0, 1.0)
    merged["category_distress"] = category_distress
    return merged


def validate_label_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """Check a model-label -> category mapping; return it with lower-cased, stripped labels."""
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"label mapping must be a mapping, got {type(mapping).__name__}")
    if not mapping:
        raise ConfigError("label mapping is empty: map at least one model label to a category")
    clean: dict[str, str] = {}
    for label, category in mapping.items():
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(f"label mapping has an empty or non-text model label: {label!r}")
        if category not in CATEGORIES:
            raise ConfigError(
                f"model label {label!r} maps to unknown category {category!r}; "
                f"choose one of: {', '.join(CATEGORIES)}"
            )
        key = label.strip().lower()
        if key in clean and clean[key] != category:
            raise ConfigError(f"model label {label!r} is mapped twice, to {clean[key]!r} and {category!r}")
        clean[key] = category
    return clean


@dataclass(frozen=True)
class TriageConfig:
    """Admin-edited, versioned triage settings. The version is recorded on every score.

    ``weights`` may leave keys out (the defaults fill them in); unknown keys, negative or
    out-of-range values and unknown categories raise :class:`ConfigError`.
    """

    version: int
    weights: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    label_mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LABEL_MAPPING))
    max_wait_seconds: float = 180.0
    prank_history_days: int = 7

    def __post_init__(self) -> None:
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ConfigError(f"version must be a positive integer, got {self.version!r}")
        if (
            not _is_number(self.max_wait_seconds)
            or not math.isfinite(self.max_wait_seconds)
            or self.max_wait_seconds <= 0
        ):
            raise ConfigError(
                f"max_wait_seconds must be a positive number of seconds, got {self.max_wait_seconds!r}"
            )
        if (
            not isinstance(self.prank_history_days, int)
            or isinstance(self.prank_history_days, bool)
            or self.prank_history_days < 1
        ):
            raise ConfigError(
                f"prank_history_days must be a positive whole number of days, got {self.prank_history_days!r}"
            )
        object.__setattr__(self, "weights", validate_weights(self.weights))
        object.__setattr__(self, "label_mapping", validate_label_mapping(self.label_mapping))
        object.__setattr__(self, "max_wait_seconds", float(self.max_wait_seconds))

    @property
    def wait_rate(self) -> float:
        """Score points added per second of waiting."""
        return wait_rate(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "weights": {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.weights.items()},
            "label_mapping": dict(self.label_mapping),
            "max_wait_seconds": self.max_wait_seconds,
            "prank_history_days": self.prank_history_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TriageConfig:
        known = {"version", "weights", "label_mapping", "max_wait_seconds", "prank_history_days"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown triage setting(s): {', '.join(map(repr, unknown))}")
        if "version" not in data:
            raise ConfigError("triage settings need a 'version'")
        return cls(**dict(data))


DEFAULT_CONFIG = TriageConfig(version=1)


def wait_rate(config: TriageConfig) -> float:
    """Points per waiting second: at ``max_wait_seconds`` the wait alone outweighs any spread
    of base scores, ``rate * max_wait = (SCORE_MAX - SCORE_MIN) + WAIT_MARGIN``."""
    return (SCORE_MAX - SCORE_MIN + WAIT_MARGIN) / config.max_wait_seconds


def effective_score(base_score_without_wait: float, waiting_seconds: float, config: TriageConfig) -> float:
    """The live queue score: ``base + wait_rate(config) * waiting_seconds``.

    Linear in the waiting time so the database can order by it, e.g.
    ``base_score + rate * (now - received_at)`` with ``rate = wait_rate(config)``. A base outside
    ``[0, 100]`` is clamped, which is what keeps "after max wait, first" true.
    """
    base = _clamp(_finite_or(base_score_without_wait, SCORE_MAX), SCORE_MIN, SCORE_MAX)
    return base + wait_rate(config) * _waiting(waiting_seconds)


def band_for(score: float) -> str:
    """Band of a base score: critical / high / normal / low."""
    for name, lowest in BANDS:
        if score >= lowest:
            return name
    return BANDS[-1][0]


def detectable_categories(
    model_labels: Iterable[str],
    mapping: Mapping[str, str],
    word_categories: Iterable[str] = (),
) -> set[str]:
    """Triage categories the active model's labels can produce through ``mapping``.

    Pass ``word_categories=WORD_CATEGORIES`` to count what the word analysis adds (abusive,
    prank cues). Every other category is shown as :data:`NOT_DETECTED`.
    """
    lowered = {str(k).strip().lower(): v for k, v in mapping.items()}
    found = {lowered[k] for k in (str(m).strip().lower() for m in model_labels) if k in lowered}
    found |= set(word_categories)
    return {c for c in found if c in CATEGORIES}


def category_status(
    model_labels: Iterable[str],
    mapping: Mapping[str, str],
    word_categories: Iterable[str] = WORD_CATEGORIES,
) -> dict[str, str]:
    """Every category -> ``"detected"`` or :data:`NOT_DETECTED`, in display order."""
    found = detectable_categories(model_labels, mapping, word_categories)
    return {c: ("detected" if c in found else NOT_DETECTED) for c in CATEGORIES}


# --------------------------------------------------------------------------------------------
# Evidence
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    """A phrase in the transcript that raised severity (or hinted at a prank), with times."""

    phrase: str
    start: float | None = None
    end: float | None = None


def _first(d: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in d and d[key] is not None:
            return d[key]
    return None


def _unit_or_none(value: Any) -> float | None:
    if not _is_number(value) or not math.isfinite(value):
        return None
    return _clamp(float(value), 0.0, 1.0)


def _seconds_or_none(value: Any) -> float | None:
    return float(value) if _is_number(value) and math.isfinite(value) else None


def _cues_from(raw: Any) -> list[Cue]:
    if not isinstance(raw, list | tuple):
        return []
    cues: list[Cue] = []
    for item in raw:
        if isinstance(item, Cue):
            cues.append(item)
        elif isinstance(item, str):
            if item.strip():
                cues.append(Cue(item.strip()))
        elif isinstance(item, Mapping):
            phrase = _first(item, "phrase", "text", "cue", "word", "words")
            if isinstance(phrase, str) and phrase.strip():
                cues.append(
                    Cue(
                        phrase.strip(),
                        _seconds_or_none(_first(item, "start", "time", "start_time")),
                        _seconds_or_none(_first(item, "end", "end_time")),
                    )
                )
        elif isinstance(item, list | tuple) and item and isinstance(item[0], str):
            start = _seconds_or_none(item[1]) if len(item) > 1 else None
            end = _seconds_or_none(item[2]) if len(item) > 2 else None
            cues.append(Cue(item[0].strip(), start, end))
    return cues


@dataclass(frozen=True)
class WordEvidence:
    """What the words said. ``severity=None`` means unknown (treated as urgent)."""

    severity: float | None = None
    prank_likelihood: float = 0.0
    incident_type: str | None = None
    severity_cues: list[Cue] = field(default_factory=list)
    prank_cues: list[Cue] = field(default_factory=list)
    abusive: bool = False
    no_speech: bool = False  # the transcript was empty: a silent caller may be unable to talk

    @classmethod
    def from_text_analysis_dict(cls, d: Mapping[str, Any] | None) -> WordEvidence:
        """Build from the text analysis's summary dict, tolerating missing or odd keys."""
        if not isinstance(d, Mapping):
            return cls()
        transcript = _first(d, "transcript", "text")
        word_count = _first(d, "word_count", "n_words")
        no_speech = bool(_first(d, "no_speech", "empty")) or (
            isinstance(transcript, str) and not transcript.strip()
        )
        if _is_number(word_count) and word_count == 0:
            no_speech = True
        incident = _first(d, "incident_type", "incident")
        return cls(
            severity=_unit_or_none(_first(d, "severity", "severity_score")),
            prank_likelihood=_unit_or_none(
                _first(d, "prank_likelihood", "hoax_likelihood", "prank_score", "hoax_score")
            )
            or 0.0,
            incident_type=str(incident) if incident is not None else None,
            severity_cues=_cues_from(_first(d, "severity_cues", "cues")),
            prank_cues=_cues_from(_first(d, "prank_cues", "hoax_cues")),
            abusive=bool(_first(d, "abusive", "is_abusive", "abusive_language")),
            no_speech=no_speech,
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

    def __post_init__(self) -> None:
        if self.override_score is not None:
            if (
                not _is_number(self.override_score)
                or not math.isfinite(self.override_score)
                or not SCORE_MIN <= self.override_score <= SCORE_MAX
            ):
                raise ValueError(
                    f"override score must be a number from {SCORE_MIN:g} to {SCORE_MAX:g}, "
                    f"got {self.override_score!r}"
                )
            if not str(self.override_reason or "").strip():
                raise ValueError("a priority override needs a reason")


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


@dataclass(frozen=True)
class TriageResult:
    """``score`` = ``base_score`` + waiting time at evaluation; ``band`` is from ``base_score``."""

    score: float
    band: str
    components: list[Component]
    reasons: list[str]
    config_version: int
    provisional: bool
    base_score: float = 0.0
    overridden: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "base_score": self.base_score,
            "band": self.band,
            "components": [asdict(c) for c in self.components],
            "reasons": list(self.reasons),
            "config_version": self.config_version,
            "provisional": self.provisional,
            "overridden": self.overridden,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TriageResult:
        return cls(
            score=float(data["score"]),
            band=str(data["band"]),
            components=[Component(**c) for c in data.get("components", [])],
            reasons=list(data.get("reasons", [])),
            config_version=int(data["config_version"]),
            provisional=bool(data.get("provisional", False)),
            base_score=float(data.get("base_score", data["score"])),
            overridden=bool(data.get("overridden", False)),
        )


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def _clamp(x: float, low: float, high: float) -> float:
    return max(low, min(high, x))


def _finite_or(x: Any, default: float) -> float:
    return float(x) if _is_number(x) and math.isfinite(x) else default


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


@dataclass(frozen=True)
class _Acoustic:
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
        if not isinstance(label, str) or not _is_number(p) or not math.isfinite(p) or p <= 0:
            continue
        clean[label] = clean.get(label, 0.0) + float(p)
    total = sum(clean.values())
    if total <= 0:
        return None
    return {label: p / total for label, p in clean.items()}


def _acoustic(evidence: TriageEvidence, config: TriageConfig) -> _Acoustic:
    weights = config.weights
    probs = None if evidence.emotion_failed else _clean_probabilities(evidence.emotion_probabilities)
    if probs is None:
        return _Acoustic(False, weights["unknown_distress"], 0.0, None, 0.0, None, 0.0, [])
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
    return _Acoustic(
        True,
        _clamp(distress, 0.0, 1.0),
        _clamp(prank_cue, 0.0, 1.0),
        top_label,
        top_p,
        prank_label,
        prank_p,
        unmapped,
    )


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
        + w["distress"] * _clamp(distress, 0.0, 1.0)
        + w["severity"] * _clamp(severity, 0.0, 1.0)
        + w["abusive"] * (1.0 if abusive else 0.0)
        - w["prank"] * _clamp(prank_likelihood, 0.0, 1.0)
    )
    return _clamp(raw, SCORE_MIN, SCORE_MAX)


def typical_genuine_score(config: TriageConfig) -> float:
    """The base score of a typical genuine call: the floor for any case not fully analysed."""
    return score_from_values(TYPICAL_GENUINE_DISTRESS, TYPICAL_GENUINE_SEVERITY, 0.0, False, config)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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
    wait_component = Component("waiting", waiting, rate, rate * waiting, wait_reason)

    # -- acoustic distress ------------------------------------------------------------------
    acoustic = _acoustic(evidence, config)
    if not acoustic.known:
        why = "failed" if evidence.emotion_failed or evidence.emotion_probabilities else "missing"
        distress_reason = f"voice analysis {why}: treated as urgent"
    elif acoustic.top_label is not None and acoustic.top_label in acoustic.unmapped:
        distress_reason = (
            f"sounds {acoustic.top_label} {_fmt(acoustic.top_probability)} "
            f"(label not in the mapping: treated as urgent)"
        )
    else:
        distress_reason = f"sounds {acoustic.top_label} {_fmt(acoustic.top_probability)}"
    distress = Component(
        "distress",
        acoustic.distress,
        w["distress"],
        w["distress"] * acoustic.distress,
        distress_reason,
    )

    # -- words: severity, abusive, prank cues -------------------------------------------------
    words = evidence.words
    words_known = (
        words is not None
        and not evidence.transcription_failed
        and not words.no_speech
        and words.severity is not None
    )
    if words_known:
        assert words is not None and words.severity is not None
        severity_value = _clamp(words.severity, 0.0, 1.0)
        if words.severity_cues:
            phrases = ", ".join(f"'{c.phrase}'" for c in words.severity_cues[:3])
            severity_reason = f"words: {phrases}"
        elif words.incident_type and severity_value > 0:
            severity_reason = f"words suggest {words.incident_type} (severity {_fmt(severity_value)})"
        else:
            severity_reason = f"words: no severity cues (severity {_fmt(severity_value)})"
    else:
        severity_value = w["unknown_severity"]
        if evidence.transcription_failed:
            severity_reason = "transcription failed: treated as urgent"
        elif words is not None and words.no_speech:
            severity_reason = "no words recognised: treated as urgent"
        else:
            severity_reason = "no transcript yet: treated as urgent"
    severity = Component(
        "severity",
        severity_value,
        w["severity"],
        w["severity"] * severity_value,
        severity_reason,
    )

    abusive_flag = bool(words_known and words is not None and words.abusive)
    abusive = Component(
        "abusive",
        1.0 if abusive_flag else 0.0,
        w["abusive"],
        w["abusive"] if abusive_flag else 0.0,
        "words: abusive language" if abusive_flag else "no abusive language",
    )

    # -- prank likelihood: noisy-OR of acoustic cue, word cues and caller history --------------
    word_prank = _clamp(words.prank_likelihood, 0.0, 1.0) if words_known and words is not None else 0.0
    count = max(0, int(evidence.confirmed_prank_count or 0))
    acoustic_text = (
        f"sounds {acoustic.top_prank_label} {_fmt(acoustic.top_prank_probability)} (possible prank cue)"
    )
    if words is not None and words.prank_cues:
        quoted = ", ".join(f"'{c.phrase}'" for c in words.prank_cues[:2])
        words_text = f"words: {quoted} (possible prank)"
    else:
        words_text = f"words suggest a prank {_fmt(word_prank)}"
    history_text = (
        f"{_plural(count, 'confirmed prank')} from this number in {_plural(config.prank_history_days, 'day')}"
    )
    sources = [
        (w["prank_acoustic"] * acoustic.prank_cue, acoustic_text),
        (w["prank_words"] * word_prank, words_text),
        (w["prank_history"] * _history_likelihood(count), history_text),
    ]
    keep = 1.0
    for part, _ in sources:
        keep *= 1.0 - _clamp(part, 0.0, 1.0)
    prank_value = _clamp(1.0 - keep, 0.0, 1.0)
    prank_phrases = [text for part, text in sorted(sources, key=lambda s: -s[0]) if part > 0]
    prank_reason = "; ".join(prank_phrases) if prank_phrases else "no prank cues"
    prank = Component("prank", prank_value, w["prank"], 0.0 - w["prank"] * prank_value, prank_reason)

    baseline = Component("baseline", 1.0, w["baseline"], w["baseline"], "every call")

    # -- total -----------------------------------------------------------------------------------
    components = [baseline, distress, severity, abusive, prank]
    evidence_base = score_from_values(acoustic.distress, severity_value, prank_value, abusive_flag, config)
    provisional = not acoustic.known or not words_known
    overridden = evidence.override_score is not None
    if overridden:
        base = float(evidence.override_score)  # type: ignore[arg-type]
        override_reason = f"supervisor override: {str(evidence.override_reason).strip()}"
        components.append(Component("override", base, 1.0, base - evidence_base, override_reason))
        provisional = False
    else:
        base = evidence_base
        if provisional:
            # Half-known is not harmless: whatever the known half says, a case whose voice or
            # words are unknown never ranks below a typical genuine call.
            floor = typical_genuine_score(config)
            if base < floor:
                raw = sum(c.contribution for c in components)  # before clamping, so parts add up
                components.append(
                    Component(
                        "unknown_floor", floor, 1.0, floor - raw,
                        "analysis incomplete: kept at a typical genuine call's priority",
                    )
                )
                base = floor
    components.append(wait_component)

    ranked = sorted(
        (c for c in components if c.name not in ("baseline", "override")),
        key=lambda c: -abs(c.contribution),
    )
    reasons: list[str] = []
    if overridden:
        reasons.append(override_reason)
    # Unknown results always show: the operator must see that the score is a safe guess.
    for c in (distress, severity):
        if "treated as urgent" in c.reason and c.reason not in reasons:
            reasons.append(c.reason)
    for c in ranked:
        if abs(c.contribution) > 1e-9 and c.reason not in reasons:
            reasons.append(c.reason)
    if not reasons:
        # Nothing moved the score: still say what the voice and the words were.
        reasons = [distress.reason, severity.reason]
    limit = max(1, max_reasons)
    reasons = reasons[:limit]
    if waiting >= config.max_wait_seconds and wait_reason not in reasons:
        # Past the maximum wait, the wait is why the case is first: always say so.
        reasons = reasons[: limit - 1] + [wait_reason] if not (overridden and limit == 1) else reasons

    return TriageResult(
        score=base + rate * waiting,
        band=band_for(base),
        components=components,
        reasons=reasons,
        config_version=config.version,
        provisional=provisional,
        base_score=base,
        overridden=overridden,
    )
