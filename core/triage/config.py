"""Triage settings an admin edits: weights, label mapping, waits. Validated once, versioned.

Plain Python, no Django. :class:`TriageConfig` refuses anything that could bury a genuine call
(an "unknown" weight below a typical genuine call's, a prank penalty above
:data:`MAX_PRANK_WEIGHT`, a category that does not exist) with :class:`ConfigError`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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

#: The prank and non-emergency penalties together may demote a call by at most this many points.
MAX_PRANK_WEIGHT = 50.0

#: The words model moves a call by at most this many points either way.
MAX_WORDS_MODEL_WEIGHT = 40.0

#: The maximum wait an admin may set (seconds, for a HIGH call; the other bands scale from it):
#: long enough for any centre, short enough that the bounded wait still means something.
MAX_WAIT_LIMITS = (10.0, 900.0)

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
    "prank": 25.0,  # most points a certain prank loses (with non_emergency: <= MAX_PRANK_WEIGHT)
    "non_emergency": 25.0,  # most points a call certainly not an emergency loses (enquiry, test call...)
    "words_model": 30.0,  # most points the words model moves a call, either way, at full trust
    "unknown_distress": 0.65,  # distress used when the voice analysis is missing or failed
    "unknown_severity": 0.65,  # severity used when the words are missing, failed or empty
    "prank_acoustic": 0.4,  # how much an acoustic prank cue counts (0..1)
    "prank_words": 0.9,  # how much the words' prank likelihood counts (0..1)
    "prank_history": 0.8,  # how much confirmed pranks from the number count (0..1)
    "incident_severity": 0.5,  # severity of words that name an incident (fire, accident) but no threat to life
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

_POINT_WEIGHTS = ("baseline", "distress", "severity", "abusive", "prank", "non_emergency", "words_model")
_DEMOTIONS = ("prank", "non_emergency")
_UNIT_WEIGHTS = ("prank_acoustic", "prank_words", "prank_history", "incident_severity")
_UNKNOWN_WEIGHTS = {
    "unknown_distress": TYPICAL_GENUINE_DISTRESS,
    "unknown_severity": TYPICAL_GENUINE_SEVERITY,
}


class ConfigError(ValueError):
    """Triage weights or label mapping an admin entered that cannot be used."""


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------


def clamp(x: float, low: float, high: float) -> float:
    return max(low, min(high, x))


def is_number(value: object) -> bool:
    """A real number (bools are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_number(key: str, value: object, low: float, high: float) -> float:
    if not is_number(value) or not math.isfinite(value):  # type: ignore[arg-type]
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
        high = MAX_PRANK_WEIGHT if key in _DEMOTIONS else MAX_WORDS_MODEL_WEIGHT if key == "words_model" else SCORE_MAX
        merged[key] = _check_number(key, weights.get(key, DEFAULT_WEIGHTS[key]), 0.0, high)
    if sum(merged[key] for key in _DEMOTIONS) > MAX_PRANK_WEIGHT:
        raise ConfigError(
            f"weights 'prank' and 'non_emergency' together must not exceed {MAX_PRANK_WEIGHT:g} points: "
            f"a call is demoted by at most that much, got {merged['prank']:g} + {merged['non_emergency']:g}"
        )
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
        low, high = MAX_WAIT_LIMITS
        if (
            not is_number(self.max_wait_seconds)
            or not math.isfinite(self.max_wait_seconds)
            or not low <= self.max_wait_seconds <= high
        ):
            raise ConfigError(
                f"max_wait_seconds must be from {low:g} to {high:g} seconds, got {self.max_wait_seconds!r}"
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
