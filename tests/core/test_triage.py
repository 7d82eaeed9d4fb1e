"""Triage scoring: the invariants as properties (hypothesis), the wording as examples."""

from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.speech.transcript import Transcript, Word
from core.text.analysis import analyse
from core.triage.config import (
    BAND_NAMES,
    BANDS,
    CATEGORIES,
    DEFAULT_CONFIG,
    DEFAULT_LABEL_MAPPING,
    DEFAULT_WEIGHTS,
    MAX_PRANK_WEIGHT,
    MAX_WAIT_LIMITS,
    NOT_DETECTED,
    SCORE_MAX,
    SCORE_MIN,
    TYPICAL_GENUINE_DISTRESS,
    TYPICAL_GENUINE_SEVERITY,
    WORD_CATEGORIES,
    ConfigError,
    TriageConfig,
    band_for,
    category_status,
    detectable_categories,
)
from core.triage.evidence import Cue, TriageEvidence, WordEvidence
from core.triage.policy import (
    Component,
    TriageResult,
    format_wait,
    score_from_values,
    triage,
)
from core.triage.waiting import allowance, band_bounds, wait_reason

RAVDESS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
SCHEME_112 = ["angry", "drunk", "painful", "stressful"]
MODEL_LABELS = sorted(set(RAVDESS) | set(SCHEME_112))
EPS = 1e-9

# Local settings, not a global profile: other test modules keep their own.
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def configs(draw: st.DrawFn) -> TriageConfig:
    """Any config an admin could save."""
    weights = {
        "baseline": draw(st.floats(0, 100)),
        "distress": draw(st.floats(0, 100)),
        "severity": draw(st.floats(0, 100)),
        "abusive": draw(st.floats(0, 100)),
        "prank": (prank := draw(st.floats(0, MAX_PRANK_WEIGHT))),
        "non_emergency": draw(st.floats(0, MAX_PRANK_WEIGHT - prank)),
        "incident_severity": draw(unit),
        "unknown_distress": draw(st.floats(TYPICAL_GENUINE_DISTRESS, 1)),
        "unknown_severity": draw(st.floats(TYPICAL_GENUINE_SEVERITY, 1)),
        "prank_acoustic": draw(unit),
        "prank_words": draw(unit),
        "prank_history": draw(unit),
        "category_distress": {c: draw(unit) for c in CATEGORIES},
    }
    mapping = draw(
        st.one_of(
            st.just(DEFAULT_LABEL_MAPPING),
            st.dictionaries(st.sampled_from(MODEL_LABELS), st.sampled_from(CATEGORIES), min_size=1),
        )
    )
    return TriageConfig(
        version=draw(st.integers(1, 10_000)),
        weights=weights,
        label_mapping=mapping,
        max_wait_seconds=draw(st.floats(*MAX_WAIT_LIMITS)),
        prank_history_days=draw(st.integers(1, 90)),
    )


any_config = st.one_of(st.just(DEFAULT_CONFIG), configs())

probabilities = st.dictionaries(
    st.sampled_from(MODEL_LABELS + ["unheard_label"]),
    st.floats(0, 1, allow_nan=False),
    min_size=1,
).filter(lambda d: sum(d.values()) > 0.01)

cues = st.lists(
    st.builds(
        Cue,
        st.sampled_from(["not breathing", "bleeding", "fire", "help", "knife"]),
        st.one_of(st.none(), st.floats(0, 600)),
    ),
    max_size=4,
)

words_known = st.builds(
    WordEvidence,
    severity=unit,
    prank_likelihood=unit,
    incident_type=st.sampled_from([None, "medical", "fire", "crime/violence", "other"]),
    severity_cues=cues,
    prank_cues=st.lists(st.builds(Cue, st.sampled_from(["just kidding", "prank"])), max_size=2),
    abusive=st.booleans(),
    no_speech=st.just(False),
)

words_unsure = st.builds(
    WordEvidence, severity=unit, incident_type=st.sampled_from([None, "medical"]), severity_cues=cues,
    word_confidence=st.floats(0, 0.79), other_confidence=st.floats(0, 0.79),
    non_emergency_likelihood=unit, non_emergency_kind=st.just("test_call"),
    non_emergency_cues=st.lists(st.builds(Cue, st.just("test call")), max_size=1),
)

words_any = st.one_of(
    st.none(),
    words_known,
    words_unsure,
    st.builds(WordEvidence, severity=st.none()),
    st.builds(WordEvidence, severity=unit, no_speech=st.just(True)),
)

waits = st.floats(0, 7200, allow_nan=False)


@st.composite
def evidences(draw: st.DrawFn, override: bool = True, **fixed: object) -> TriageEvidence:
    values: dict[str, object] = {
        "emotion_probabilities": draw(st.one_of(st.none(), probabilities)),
        "emotion_failed": draw(st.booleans()),
        "words": draw(words_any),
        "transcription_failed": draw(st.booleans()),
        "confirmed_prank_count": draw(st.integers(0, 50)),
        "waiting_seconds": draw(waits),
        "acoustic_trust": draw(unit),
        "voice_unfamiliar": draw(st.booleans()),
    }
    if override and draw(st.booleans()):
        values["override_score"] = draw(st.floats(SCORE_MIN, SCORE_MAX))
        values["override_reason"] = draw(st.sampled_from(["caller known to us", "dispatcher"]))
    values.update(fixed)
    return TriageEvidence(**values)  # type: ignore[arg-type]


def with_(evidence: TriageEvidence, **changes: object) -> TriageEvidence:
    data = {f: getattr(evidence, f) for f in evidence.__dataclass_fields__}
    data.update(changes)
    return TriageEvidence(**data)  # type: ignore[arg-type]


def component(result: TriageResult, name: str) -> Component:
    return next(c for c in result.components if c.name == name)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(
    config=any_config,
    d1=unit,
    d2=unit,
    severity=unit,
    prank=unit,
    abusive=st.booleans(),
)
def test_more_distress_never_lowers_the_base_score(config, d1, d2, severity, prank, abusive):
    low, high = sorted((d1, d2))
    assert score_from_values(low, severity, prank, abusive, config) <= score_from_values(
        high, severity, prank, abusive, config
    )


@PROPERTY
@given(
    config=any_config,
    evidence=evidences(override=False),
    src=st.sampled_from(MODEL_LABELS),
    dst=st.sampled_from(MODEL_LABELS),
    fraction=unit,
)
def test_moving_probability_to_a_more_distressed_label_never_lowers_the_score(
    config, evidence, src, dst, fraction
):
    probs = dict(evidence.emotion_probabilities or {"neutral": 0.6, "fearful": 0.4})
    probs.setdefault(src, 0.2)
    mapping, intensity = config.label_mapping, config.weights["category_distress"]
    assume(src in mapping and dst in mapping and src != dst)
    assume("prank" not in (mapping[src], mapping[dst]))
    assume(intensity[mapping[dst]] >= intensity[mapping[src]])
    moved = dict(probs)
    moved[src] -= probs[src] * fraction
    moved[dst] = moved.get(dst, 0.0) + probs[src] * fraction
    before = triage(with_(evidence, emotion_probabilities=probs), config)
    after = triage(with_(evidence, emotion_probabilities=moved), config)
    assert after.score >= before.score - EPS
    assert after.base_score >= before.base_score - EPS


@PROPERTY
@given(config=any_config, evidence=evidences(override=False), s1=unit, s2=unit, w=words_known)
def test_more_severity_never_lowers_the_score(config, evidence, s1, s2, w):
    low, high = sorted((s1, s2))
    a = triage(with_(evidence, words=_replace(w, severity=low)), config)
    b = triage(with_(evidence, words=_replace(w, severity=high)), config)
    assert b.score >= a.score - EPS
    assert b.base_score >= a.base_score - EPS


def _replace(words: WordEvidence, **changes: object) -> WordEvidence:
    data = {f: getattr(words, f) for f in words.__dataclass_fields__}
    data.update(changes)
    return WordEvidence(**data)  # type: ignore[arg-type]


@PROPERTY
@given(
    config=any_config,
    evidence=evidences(override=False),
    typical=st.one_of(probabilities, st.just({"fearful": 0.5, "neutral": 0.5})),
    failed=st.booleans(),
)
def test_a_missing_or_failed_voice_analysis_ranks_at_least_as_high_as_a_typical_genuine_call(
    config, evidence, typical, failed
):
    genuine = triage(with_(evidence, emotion_probabilities=typical, emotion_failed=False), config)
    assume(not genuine.silent_call)  # a silent call is its own case (tests/core/test_graded_words.py)
    assume(component(genuine, "distress").value <= TYPICAL_GENUINE_DISTRESS)
    if failed:
        unknown = with_(evidence, emotion_probabilities=typical, emotion_failed=True)
    else:
        unknown = with_(evidence, emotion_probabilities=None, emotion_failed=False)
    result = triage(unknown, config)
    assert result.base_score >= genuine.base_score - EPS
    assert result.provisional


@PROPERTY
@given(
    config=any_config,
    evidence=evidences(override=False),
    w=words_known,
    how=st.sampled_from(["none", "failed", "no_severity"]),
)
def test_missing_or_failed_words_rank_at_least_as_high_as_a_typical_genuine_call(config, evidence, w, how):
    assume(w.severity is not None and w.severity <= TYPICAL_GENUINE_SEVERITY)
    genuine_words = _replace(w, abusive=False)  # a typical genuine call is not abusive
    genuine = triage(with_(evidence, words=genuine_words, transcription_failed=False), config)
    unknown = {
        "none": with_(evidence, words=None, transcription_failed=False),
        "failed": with_(evidence, words=genuine_words, transcription_failed=True),
        "no_severity": with_(
            evidence, words=_replace(genuine_words, severity=None), transcription_failed=False
        ),
    }[how]
    result = triage(unknown, config)
    assert result.base_score >= genuine.base_score - EPS
    assert result.provisional


@PROPERTY
@given(config=any_config, count=st.integers(0, 50), wait=waits)
def test_nothing_known_ranks_at_least_as_high_as_the_typical_genuine_call(config, count, wait):
    nothing = triage(
        TriageEvidence(confirmed_prank_count=count, waiting_seconds=wait, emotion_failed=True),
        config,
    )
    typical = score_from_values(TYPICAL_GENUINE_DISTRESS, TYPICAL_GENUINE_SEVERITY, 0.0, False, config)
    no_history = triage(TriageEvidence(emotion_failed=True, transcription_failed=True), config)
    assert no_history.base_score >= typical - EPS
    assert nothing.provisional and no_history.provisional
    # with the default weights, an unknown call is at least in the "high" band
    if config is DEFAULT_CONFIG:
        assert BAND_NAMES.index(no_history.band) <= BAND_NAMES.index("high")


@PROPERTY
@given(config=any_config, evidence=evidences(), w1=waits, w2=waits)
def test_waiting_never_changes_the_score_only_the_time_left(config, evidence, w1, w2):
    low, high = sorted((w1, w2))
    a = triage(with_(evidence, waiting_seconds=low), config)
    b = triage(with_(evidence, waiting_seconds=high), config)
    assert a.base_score == b.base_score == a.score == b.score
    assert component(a, "waiting").contribution == 0.0
    assert component(a, "waiting").weight == pytest.approx(allowance(a.base_score, config))


@PROPERTY
@given(
    config=any_config,
    evidence=evidences(override=False),
    override=st.floats(SCORE_MIN, SCORE_MAX),
    reason=st.text(min_size=1).filter(str.strip),
)
def test_a_supervisor_override_wins(config, evidence, override, reason):
    result = triage(with_(evidence, override_score=override, override_reason=reason), config)
    assert result.base_score == override
    assert result.band == band_for(override)
    assert result.overridden
    assert result.reasons[0] == f"supervisor override: {reason.strip()}"
    assert component(result, "override").value == override
    assert result.score == override


@PROPERTY
@given(config=any_config, evidence=evidences(override=False), more=st.integers(0, 20))
def test_prank_evidence_demotes_but_is_bounded(config, evidence, more):
    clean = triage(with_(evidence, confirmed_prank_count=0, emotion_probabilities=None, words=None), config)
    pranky = triage(
        with_(
            evidence,
            confirmed_prank_count=evidence.confirmed_prank_count + more,
            emotion_probabilities={"happy": 1.0},
            emotion_failed=False,
            words=WordEvidence(severity=0.0, prank_likelihood=1.0),
            transcription_failed=False,
        ),
        config,
    )
    prank = component(pranky, "prank")
    assert 0.0 <= prank.value <= 1.0
    assert -config.weights["prank"] - EPS <= prank.contribution <= 0.0
    assert pranky.base_score >= SCORE_MIN
    # more confirmed pranks never raise the score
    fewer = triage(evidence, config)
    assert (
        triage(with_(evidence, confirmed_prank_count=evidence.confirmed_prank_count + more), config).score
        <= fewer.score + EPS
    )
    assert clean.base_score >= SCORE_MIN


@PROPERTY
@given(config=any_config, evidence=evidences(), max_reasons=st.integers(1, 6))
def test_every_result_is_well_formed_and_storable(config, evidence, max_reasons):
    before = copy.deepcopy(evidence)
    result = triage(evidence, config, max_reasons=max_reasons)
    assert evidence == before  # pure: the input is not changed
    assert triage(evidence, config, max_reasons=max_reasons) == result  # and deterministic
    assert SCORE_MIN <= result.base_score <= SCORE_MAX
    assert result.score == result.base_score
    assert result.band in BAND_NAMES and result.band == band_for(result.base_score)
    assert 1 <= len(result.reasons) <= max_reasons
    assert result.config_version == config.version
    names = [c.name for c in result.components]
    assert {"distress", "severity", "prank", "waiting"} <= set(names)
    if not result.overridden:
        total = sum(c.contribution for c in result.components if c.name != "waiting")
        assert math.isclose(result.base_score, min(SCORE_MAX, max(SCORE_MIN, total)), abs_tol=1e-6)
    data = json.loads(json.dumps(result.to_dict()))
    assert TriageResult.from_dict(data) == result


# --------------------------------------------------------------------------------------------
# Reasons in plain words
# --------------------------------------------------------------------------------------------


def test_reasons_name_the_voice_the_words_the_history_and_the_wait():
    result = triage(
        TriageEvidence(
            emotion_probabilities={"fearful": 0.82, "neutral": 0.18},
            words=WordEvidence(
                severity=0.9,
                incident_type="medical",
                severity_cues=[Cue("not breathing", 1.2, 1.9)],
            ),
            confirmed_prank_count=2,
            waiting_seconds=190,
        ),
        max_reasons=4,
    )
    assert result.reasons == [
        "words: 'not breathing' at 1.2 s",
        "2 confirmed pranks from this number in 7 days",
        "sounds fearful 0.82",
    ]
    # the wait orders the queue; its words are on the case page
    assert component(result, "waiting").reason == "waiting 3 min 10 s: past its 59 s bound, ahead of the CRITICAL calls not yet due"
    assert component(result, "distress").reason == "sounds fearful 0.82"
    assert not result.provisional


def test_top_reasons_are_ordered_by_contribution_and_limited():
    result = triage(
        TriageEvidence(
            emotion_probabilities={"sad": 0.7, "calm": 0.3},
            words=WordEvidence(severity=0.2, severity_cues=[Cue("fell"), Cue("hurt"), Cue("leg")]),
        ),
        max_reasons=1,
    )
    assert result.reasons == ["words: 'fell', 'hurt', 'leg'"]  # 9 points against the voice's 6
    # a cue that moved the score by less than MIN_REASON_POINTS stays on the case page
    tiny = triage(TriageEvidence(emotion_probabilities={"neutral": 0.96, "happy": 0.04},
                                 words=WordEvidence(severity=0.9, severity_cues=[Cue("bleeding")])))
    assert tiny.reasons == ["words: 'bleeding'", "sounds neutral 0.96"]
    assert "happy" not in " ".join(tiny.reasons)


def test_one_confirmed_prank_is_singular_and_uses_the_configured_days():
    config = TriageConfig(version=3, prank_history_days=30)
    result = triage(
        TriageEvidence(
            emotion_probabilities={"neutral": 1.0},
            words=WordEvidence(severity=0.0),
            confirmed_prank_count=1,
        ),
        config,
    )
    assert component(result, "prank").reason == "1 confirmed prank from this number in 30 days"
    assert result.config_version == 3


def test_a_prank_voice_cue_and_prank_words_are_named():
    result = triage(
        TriageEvidence(
            emotion_probabilities={"happy": 0.71, "neutral": 0.29},
            words=WordEvidence(severity=0.0, prank_likelihood=0.8, prank_cues=[Cue("just kidding")]),
        )
    )
    reason = component(result, "prank").reason
    assert reason == "words: 'just kidding' (possible prank); sounds happy 0.71 (possible prank cue)"
    assert result.band == "low"  # demoted...
    assert result.base_score >= SCORE_MIN  # ...never dropped


def test_abusive_words_are_a_reason_even_with_no_weight():
    result = triage(
        TriageEvidence(
            emotion_probabilities={"angry": 1.0},
            words=WordEvidence(severity=0.1, abusive=True),
        ),
        TriageConfig(version=1, weights={"abusive": 5.0}),
    )
    assert "words: abusive language" in result.reasons
    assert component(result, "abusive").contribution == 5.0


def test_unknown_results_say_they_were_treated_as_urgent():
    result = triage(TriageEvidence(emotion_failed=True, transcription_failed=True))
    assert result.reasons == [
        "voice analysis failed: treated as urgent",
        "transcription failed: treated as urgent",
    ]
    assert result.provisional
    missing = triage(TriageEvidence(words=None))
    assert missing.reasons == [
        "voice analysis missing: treated as urgent",
        "no transcript yet: treated as urgent",
    ]


def test_a_label_missing_from_the_mapping_counts_as_unknown_distress():
    result = triage(
        TriageEvidence(
            emotion_probabilities={"Screaming": 0.9, "neutral": 0.1},
            words=WordEvidence(severity=0.0),
        )
    )
    distress = component(result, "distress")
    assert distress.value == pytest.approx(0.9 * DEFAULT_WEIGHTS["unknown_distress"])
    assert distress.reason == "sounds Screaming 0.90 (label not in the mapping: treated as urgent)"


def test_a_supervisor_override_needs_a_reason_and_a_score_in_range():
    with pytest.raises(ValueError, match="needs a reason"):
        TriageEvidence(override_score=90.0, override_reason="  ")
    with pytest.raises(ValueError, match="from 0 to 100"):
        TriageEvidence(override_score=101.0, override_reason="x")
    with pytest.raises(ValueError, match="from 0 to 100"):
        TriageEvidence(override_score=float("nan"), override_reason="x")
    result = triage(
        TriageEvidence(
            emotion_probabilities={"happy": 1.0},
            confirmed_prank_count=5,
            override_score=95.0,
            override_reason="caller is a known patient",
        )
    )
    assert (result.base_score, result.band) == (95.0, "critical")
    assert result.reasons[0] == "supervisor override: caller is a known patient"
    assert not result.provisional


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45.9, "45 s"),
        (60, "1 min"),
        (190, "3 min 10 s"),
        (3725, "1 h 2 min"),
        (-5, "0 s"),
        (float("nan"), "0 s"),
    ],
)
def test_waiting_time_in_plain_words(seconds, text):
    assert format_wait(seconds) == text


# --------------------------------------------------------------------------------------------
# Bands and the wait rate
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (100, "critical"),
        (75, "critical"),
        (74.99, "high"),
        (55, "high"),
        (54.9, "normal"),
        (30, "normal"),
        (25, "normal"),
        (24.9, "low"),
        (29.9, "normal"),
        (0, "low"),
    ],
)
def test_bands_from_base_score(score, band):
    assert band_for(score) == band


def test_bands_are_ordered_and_cover_the_range():
    lows = [low for _, low in BANDS]
    assert lows == sorted(lows, reverse=True)
    assert lows[-1] == SCORE_MIN
    assert BAND_NAMES == ("critical", "high", "normal", "low")


def test_default_bounds_per_band():
    assert DEFAULT_CONFIG.max_wait_seconds == 180
    assert band_bounds(DEFAULT_CONFIG) == pytest.approx({"critical": 60, "high": 180, "normal": 720, "low": 1800})
    assert allowance(55, DEFAULT_CONFIG) == pytest.approx(180)  # a band's bound at its lowest score
    assert allowance(100, DEFAULT_CONFIG) == pytest.approx(48)  # ... down to 80 % of it at its top
    assert wait_reason(60, 70, DEFAULT_CONFIG) == "waiting 1 min 10 s of the 2 min 51 s this HIGH call may wait"


def test_typical_calls_land_in_sensible_bands():
    genuine = triage(
        TriageEvidence(
            emotion_probabilities={"fearful": 0.5, "neutral": 0.5},
            words=WordEvidence(severity=0.5),
        )
    )
    calm_enquiry = triage(
        TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=WordEvidence(severity=0.0))
    )
    critical = triage(
        TriageEvidence(
            emotion_probabilities={"fearful": 0.9, "sad": 0.1},
            words=WordEvidence(severity=1.0, severity_cues=[Cue("not breathing")]),
            confirmed_prank_count=3,
        )
    )
    assert genuine.band == "high"
    assert calm_enquiry.band == "normal"
    assert critical.band == "critical"  # prank history never buries a genuine emergency


# --------------------------------------------------------------------------------------------
# Config validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": {"loudness": 1.0}}, "unknown weight(s): 'loudness'"),
        ({"weights": {"distress": -1.0}}, "weight 'distress' must not be negative"),
        ({"weights": {"severity": 101}}, "weight 'severity' must be between 0 and 100"),
        ({"weights": {"prank": 60}}, "weight 'prank' must be between 0 and 50"),
        ({"weights": {"prank_words": 1.5}}, "weight 'prank_words' must be between 0 and 1"),
        ({"weights": {"baseline": "high"}}, "weight 'baseline' must be a finite number"),
        ({"weights": {"baseline": float("nan")}}, "must be a finite number"),
        ({"weights": {"baseline": True}}, "must be a finite number"),
        ({"weights": {"unknown_distress": 0.2}}, "must be at least 0.5 (a typical genuine call)"),
        ({"weights": {"category_distress": {"sleepy": 0.1}}}, "unknown category: 'sleepy'"),
        ({"weights": {"category_distress": {"calm": -0.1}}}, "'category_distress.calm'"),
        ({"weights": {"category_distress": [1, 2]}}, "must be a mapping of category"),
        ({"weights": [1, 2]}, "weights must be a mapping"),
        ({"label_mapping": {"fearful": "scared"}}, "maps to unknown category 'scared'"),
        ({"label_mapping": {}}, "label mapping is empty"),
        ({"label_mapping": {"": "calm"}}, "empty or non-text model label"),
        ({"label_mapping": {"Sad": "painful", "sad": "calm"}}, "mapped twice"),
        ({"max_wait_seconds": 0}, "max_wait_seconds must be from 10 to 900 seconds"),
        ({"max_wait_seconds": float("inf")}, "max_wait_seconds must be from 10 to 900 seconds"),
        ({"max_wait_seconds": 1e308}, "max_wait_seconds must be from 10 to 900 seconds"),
        ({"max_wait_seconds": 1e12}, "max_wait_seconds must be from 10 to 900 seconds"),
        ({"weights": {"prank": 30, "non_emergency": 30}}, "together must not exceed 50 points"),
        ({"prank_history_days": 0}, "prank_history_days must be a positive whole number"),
        ({"prank_history_days": 2.5}, "prank_history_days must be a positive whole number"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ConfigError) as error:
        TriageConfig(version=1, **kwargs)
    assert message in str(error.value)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize("version", [0, -1, True, 1.5, "2"])
def test_the_version_must_be_a_positive_integer(version):
    with pytest.raises(ConfigError, match="version must be a positive integer"):
        TriageConfig(version=version)


def test_partial_weights_are_completed_from_the_defaults_and_not_shared():
    config = TriageConfig(version=2, weights={"severity": 60, "category_distress": {"drunk": 0}})
    assert config.weights["severity"] == 60.0
    assert config.weights["distress"] == DEFAULT_WEIGHTS["distress"]
    assert config.weights["category_distress"]["drunk"] == 0.0
    assert config.weights["category_distress"]["stressful"] == 1.0
    config.weights["category_distress"]["calm"] = 1.0
    assert DEFAULT_WEIGHTS["category_distress"]["calm"] == 0.0


def test_config_round_trips_through_json():
    config = TriageConfig(
        version=7,
        weights={"prank": 10},
        label_mapping={"Fearful": "stressful", "happy": "calm"},
        max_wait_seconds=120,
        prank_history_days=14,
    )
    again = TriageConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.label_mapping == {"fearful": "stressful", "happy": "calm"}
    with pytest.raises(ConfigError, match="unknown triage setting"):
        TriageConfig.from_dict({"version": 1, "colour": "red"})
    with pytest.raises(ConfigError, match="need a 'version'"):
        TriageConfig.from_dict({"weights": {}})


# --------------------------------------------------------------------------------------------
# Label mapping and categories the model cannot detect
# --------------------------------------------------------------------------------------------


def test_default_mapping():
    m = DEFAULT_LABEL_MAPPING
    assert m["fearful"] == "stressful"
    assert m["sad"] == "painful"
    assert m["angry"] == "angry"
    assert m["happy"] == m["surprised"] == "prank"
    assert m["neutral"] == m["calm"] == "calm"
    assert m["disgust"] == "angry"
    assert {m[x] for x in SCHEME_112} == {"angry", "drunk", "painful", "stressful"}
    assert set(m.values()) <= set(CATEGORIES)
    assert TriageConfig(version=1).label_mapping == m


def test_ravdess_model_cannot_detect_drunk_or_abusive():
    found = detectable_categories(RAVDESS, DEFAULT_LABEL_MAPPING)
    assert found == {"calm", "prank", "painful", "angry", "stressful"}
    status = category_status(RAVDESS, DEFAULT_LABEL_MAPPING, word_categories=())
    assert status["drunk"] == status["abusive"] == NOT_DETECTED
    assert list(status) == list(CATEGORIES)


def test_112_model_with_words_detects_abusive_and_prank_but_not_calm():
    status = category_status(SCHEME_112, DEFAULT_LABEL_MAPPING)
    assert status == {
        "angry": "detected",
        "stressful": "detected",
        "painful": "detected",
        "drunk": "detected",
        "abusive": "detected",
        "prank": "detected",
        "calm": NOT_DETECTED,
    }
    assert detectable_categories(SCHEME_112, DEFAULT_LABEL_MAPPING) == {
        "angry",
        "drunk",
        "painful",
        "stressful",
    }
    assert WORD_CATEGORIES == {"abusive", "prank"}


def test_detectable_categories_matches_labels_case_insensitively():
    assert detectable_categories([" Fearful "], {"fearful": "stressful"}) == {"stressful"}
    assert detectable_categories(["unknown"], DEFAULT_LABEL_MAPPING) == set()


def test_an_edited_mapping_changes_the_distress():
    evidence = TriageEvidence(emotion_probabilities={"happy": 1.0}, words=WordEvidence(severity=0.0))
    as_prank = triage(evidence)
    as_stress = triage(evidence, TriageConfig(version=2, label_mapping={"happy": "stressful"}))
    assert component(as_prank, "distress").value == 0.0
    assert component(as_stress, "distress").value == 1.0
    assert as_stress.base_score > as_prank.base_score
    assert as_stress.config_version == 2


# --------------------------------------------------------------------------------------------
# Word evidence from the text analysis
# --------------------------------------------------------------------------------------------


def _spoken(*words: tuple[str, float, float]) -> Transcript:
    return Transcript(text=" ".join(w for w, _, _ in words), words=[Word(w, a, b, 0.95) for w, a, b in words])


def test_word_evidence_from_a_real_text_analysis_keeps_each_cue_with_its_time():
    analysis = analyse(_spoken(("help", 0.2, 0.5), ("he", 0.6, 0.7), ("is", 0.7, 0.8), ("not", 0.8, 1.0),
                               ("breathing", 1.0, 1.5), ("there", 1.6, 1.8), ("is", 1.8, 1.9),
                               ("blood", 1.9, 2.2), ("everywhere", 2.2, 2.8)))
    words = WordEvidence.from_text_analysis(analysis)
    assert words.severity == analysis.severity and words.incident_type == "medical"
    # Strongest cue first, each with the words the caller said and when.
    where = [(c.phrase, c.start, c.end) for c in words.severity_cues]
    assert where[0] == ("not breathing", 0.8, 1.5) and words.severity_cues[0].confidence == pytest.approx(0.95)
    assert ("blood everywhere", 1.9, 2.8) in where
    assert words.severity_cues[-1].phrase.startswith("help") and words.severity_cues[-1].start == 0.2
    result = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=words))
    assert component(result, "severity").reason.startswith("words: 'not breathing' at 0.8 s, ")
    assert "words: 'not breathing' at 0.8 s" in result.reasons[0]


def test_prank_cues_from_the_words_are_quoted_with_their_time():
    analysis = analyse(_spoken(("ha", 0.1, 0.3), ("ha", 0.3, 0.5), ("just", 1.0, 1.2), ("kidding", 1.2, 1.6)))
    words = WordEvidence.from_text_analysis(analysis)
    assert words.prank_cues and words.prank_likelihood > 0
    result = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=words))
    assert "at 1.0 s" in component(result, "prank").reason or "at 0.1 s" in component(result, "prank").reason


def test_no_words_means_unknown_not_harmless():
    words = WordEvidence.from_text_analysis(analyse(_spoken()))
    assert words == WordEvidence(no_speech=True)
    result = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=words))
    assert result.silent_call and result.band == "high"  # a silent call: call back, never LOW
    missing = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=None))
    assert missing.provisional
    assert component(missing, "severity").value == DEFAULT_WEIGHTS["unknown_severity"]


@PROPERTY
@given(
    config=any_config,
    evidence=evidences(override=False),
    gap=st.sampled_from(["emotion_failed", "emotion_missing", "words_missing", "words_failed"]),
)
def test_any_incomplete_analysis_keeps_at_least_a_typical_genuine_calls_priority(config, evidence, gap):
    """Whatever the known half says (even 'prank'), a half-analysed call is not demoted below it."""
    from core.triage.policy import typical_genuine_score

    changed = {
        "emotion_failed": {"emotion_failed": True},
        "emotion_missing": {"emotion_probabilities": None, "emotion_failed": False},
        "words_missing": {"words": None, "transcription_failed": False},
        "words_failed": {"transcription_failed": True},
    }[gap]
    result = triage(with_(evidence, **changed), config)
    assume(not result.silent_call)  # a silent call is its own case (tests/core/test_graded_words.py)
    assert result.provisional
    assert result.base_score >= typical_genuine_score(config) - EPS


# --------------------------------------------------------------------------------------------
# The voice: weighted by trust, never alone below a typical genuine call
# --------------------------------------------------------------------------------------------


def _prank_without_the_voice(evidence: TriageEvidence, config: TriageConfig) -> float:
    """How strongly the cues against the call (prank, non-emergency) that the settings let count
    speak against it, together (either may be enough)."""
    result = triage(with_(evidence, acoustic_trust=0.0), config)
    found = {c.name: c for c in result.components}  # a silent call has neither
    cues = [found[name].value for name in ("prank", "non_emergency") if name in found and found[name].weight > 0]
    return 1.0 - math.prod(1.0 - value for value in cues)


@PROPERTY
@given(config=any_config, evidence=evidences(override=False))
def test_the_voice_alone_never_demotes_a_call_below_a_typical_genuine_one(config, evidence):
    """Whatever the voice (and however trusted), unless the words or the caller's history suggest a
    prank, the score is at least the lower of a typical genuine call's and a neutral voice's."""
    from core.triage.policy import typical_genuine_score

    assume(_prank_without_the_voice(evidence, config) < 0.5)
    neutral = triage(with_(evidence, acoustic_trust=0.0), config).base_score
    result = triage(evidence, config)
    assert result.base_score >= min(typical_genuine_score(config), neutral) - EPS


@PROPERTY
@given(config=any_config, evidence=evidences(override=False), heard=probabilities, other=probabilities)
def test_an_untrusted_model_moves_nothing(config, evidence, heard, other):
    # A voice analysis that succeeded (built, not filtered for: most drawn evidence has none).
    evidence = with_(evidence, emotion_probabilities=heard, emotion_failed=False)
    a = triage(with_(evidence, acoustic_trust=0.0), config)
    b = triage(with_(evidence, acoustic_trust=0.0, emotion_probabilities=other), config)
    assert a.base_score == pytest.approx(b.base_score, abs=1e-6)


@PROPERTY
@given(config=any_config, evidence=evidences(override=False), t1=unit, t2=unit)
def test_more_trust_never_moves_a_voice_towards_the_middle(config, evidence, t1, t2):
    low, high = sorted((t1, t2))
    a = component(triage(with_(evidence, acoustic_trust=low), config), "distress").value
    b = component(triage(with_(evidence, acoustic_trust=high), config), "distress").value
    assert abs(b - TYPICAL_GENUINE_DISTRESS) >= abs(a - TYPICAL_GENUINE_DISTRESS) - EPS


@PROPERTY
@given(config=any_config, evidence=evidences(override=False), words=words_unsure)
def test_unsure_words_without_a_cue_keep_part_of_the_unknown_severity(config, evidence, words):
    result = triage(with_(evidence, words=words, transcription_failed=False), config)
    kept = (1 - words.other_confidence) * config.weights["unknown_severity"]
    assert component(result, "severity").value >= kept - EPS


def test_a_strongly_distressed_voice_from_a_trusted_model_reaches_high_on_its_own():
    calm_words = WordEvidence(severity=0.0)
    trusted = triage(TriageEvidence(emotion_probabilities={"fearful": 1.0}, words=calm_words, acoustic_trust=1.0))
    doubted = triage(TriageEvidence(emotion_probabilities={"fearful": 1.0}, words=calm_words, acoustic_trust=0.3))
    assert trusted.band == "high" and doubted.band == "normal"
    assert "sounds fearful 1.00 (model trust 0.30)" in doubted.reasons


def test_a_happy_voice_alone_no_longer_puts_a_call_at_low():
    calm_words = WordEvidence(severity=0.0)
    happy = triage(TriageEvidence(emotion_probabilities={"happy": 1.0}, words=calm_words))
    neutral = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=calm_words, acoustic_trust=0.0))
    assert happy.band != "low" and happy.base_score == pytest.approx(neutral.base_score)
    assert "the voice alone does not lower a call below a typical genuine one" in \
        component(happy, "voice_floor").reason
    joking = triage(TriageEvidence(emotion_probabilities={"happy": 1.0},
                                   words=WordEvidence(severity=0.0, prank_likelihood=0.9, prank_cues=[Cue("just kidding")])))
    assert joking.base_score < happy.base_score  # with the words saying prank, the demotion stands


def test_an_unfamiliar_voice_is_discounted_and_says_so():
    words = WordEvidence(severity=0.0)
    familiar = triage(TriageEvidence(emotion_probabilities={"fearful": 1.0}, words=words))
    unfamiliar = triage(TriageEvidence(emotion_probabilities={"fearful": 1.0}, words=words, voice_unfamiliar=True))
    assert unfamiliar.base_score < familiar.base_score
    assert any("voice unlike the training data: acoustic evidence discounted" in r for r in unfamiliar.reasons)


def test_unsure_words_can_raise_a_call_and_say_why():
    unsure = WordEvidence(severity=0.95, severity_cues=[Cue("not breathing", 2.0, 2.6, confidence=0.55)],
                          word_confidence=0.55, other_confidence=0.55)
    result = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=unsure))
    assert component(result, "severity").value >= 0.95
    assert "words: 'not breathing' at 2.0 s (heard 55% sure)" in result.reasons
    assert result.band in ("critical", "high")


@pytest.mark.parametrize("reliability, trust", [
    (None, 0.0), ({"distress_auc_heldout": 0.95}, 0.0),
    ({"distress_auc_heldout": 0.95, "distress_auc_cross_corpus": 0.9}, 1.0),
    ({"distress_auc_heldout": 0.87, "distress_auc_cross_corpus": 0.6}, 0.25),
    ({"distress_auc_heldout": 0.45, "distress_auc_cross_corpus": 0.8}, 0.0),
])
def test_trust_comes_from_the_weaker_of_the_measured_aucs(reliability, trust):
    from core.triage.acoustic import acoustic_trust

    assert acoustic_trust(reliability) == pytest.approx(trust)
