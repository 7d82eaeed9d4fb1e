"""Graded word evidence, non-emergency and silent calls, and the bounded wait per band.

Properties over real text analyses of transcripts with word confidences (no hand-built evidence
where the analysis can make it), so the cue strengths are the ones the pipeline produces.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.speech.transcript import Transcript, Word
from core.text.analysis import analyse
from core.triage.config import BAND_NAMES, DEFAULT_CONFIG, TriageConfig, band_for
from core.triage.evidence import TriageEvidence, WordEvidence
from core.triage.policy import SILENT_CALL_SCORE, SILENT_REASON, triage, typical_genuine_score
from core.triage.waiting import QUEUE_TIERS, allowance, band_bounds, due_in, queue_key, wait_reason

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = 1e-9

FILLER = ["please", "listen", "we", "are", "at", "the", "main", "road", "near", "market"]
URGENT = [["not", "breathing"], ["collapsed"], ["bleeding"], ["fire", "spreading"], ["knife"]]
PRANK = [["just", "kidding"], ["hahaha"], ["my", "friend", "dared", "me"], ["aliens"]]
NON_EMERGENCY = [["wrong", "number"], ["test", "call"], ["pizza"], ["street", "light"], ["train", "timings"]]
confidence = st.floats(0.0, 1.0, allow_nan=False)
VOICE = {"neutral": 0.5, "fearful": 0.5}  # a typical voice


def spoken(parts: list[tuple[list[str], float]]) -> Transcript:
    """Words with times 0.4 s apart, each group of words at its own confidence."""
    words: list[Word] = []
    for group, conf in parts:
        for token in group:
            start = 0.4 * len(words)
            words.append(Word(token, start, start + 0.3, conf))
    return Transcript(text=" ".join(w.word for w in words), words=words)


def score(transcript: Transcript, config: TriageConfig = DEFAULT_CONFIG, **evidence: object):
    words = WordEvidence.from_text_analysis(analyse(transcript))
    return triage(TriageEvidence(emotion_probabilities=VOICE, acoustic_trust=0.5, words=words, **evidence), config)


@PROPERTY
@given(cue=st.sampled_from(URGENT), c1=confidence, c2=confidence, other=confidence,
       before=st.integers(0, 5), after=st.integers(0, 5))
def test_a_more_confident_emergency_cue_never_lowers_the_score(cue, c1, c2, other, before, after):
    low, high = sorted((c1, c2))

    def call(c: float) -> float:
        return score(spoken([(FILLER[:before], other), (cue, c), (FILLER[-after:] if after else [], other)])).base_score

    assert call(high) >= call(low) - EPS


@PROPERTY
@given(cue=st.sampled_from(PRANK + NON_EMERGENCY), c=confidence, other=confidence, n=st.integers(1, 6))
def test_a_prank_or_non_emergency_cue_lowers_a_call_only_as_far_as_its_words_are_sure(cue, c, other, n):
    """Without confident words a cue cannot take a call below where the same call would be
    without it: the demotion is at most (prank + non-emergency weight) x the cue's confidence."""
    with_cue = score(spoken([(FILLER[:n], other), (cue, c)]))
    without = score(spoken([(FILLER[:n], other), (["okay"] * len(cue), c)]))
    w = DEFAULT_CONFIG.weights
    assert with_cue.base_score >= without.base_score - (w["prank"] + w["non_emergency"]) * c - EPS
    if c == 0.0:
        assert with_cue.base_score >= without.base_score - EPS


@PROPERTY
@given(cue=st.sampled_from(PRANK + NON_EMERGENCY), c=st.floats(0.5, 1.0))
def test_prank_and_non_emergency_cues_count_on_unsure_transcripts_too(cue, c):
    unsure = 0.4
    with_cue = score(spoken([(FILLER[:4], unsure), (cue, c)]))
    without = score(spoken([(FILLER[:4], unsure), (["okay"] * len(cue), c)]))
    assert with_cue.base_score < without.base_score


@PROPERTY
@given(cue=st.sampled_from(URGENT), c=st.floats(0.2, 1.0), other=st.floats(0.2, 1.0))
def test_an_unsure_transcript_with_a_strong_emergency_cue_still_ranks_high(cue, c, other):
    result = score(spoken([(FILLER[:3], other), (cue, c)]))
    assert BAND_NAMES.index(result.band) <= BAND_NAMES.index("high")


@PROPERTY
@given(other=confidence, clear=st.sampled_from(URGENT))
def test_an_unsure_transcript_without_a_cue_does_not_outrank_a_clear_emergency(other, clear):
    unsure = score(spoken([(FILLER, other)]))
    emergency = score(spoken([(FILLER[:3], 0.95), (clear, 0.95)]))
    assert unsure.base_score < emergency.base_score


def test_pizza_and_not_breathing_no_longer_get_the_same_points_when_the_words_are_unsure():
    pizza = score(spoken([("can you send me a pizza with extra cheese".split(), 0.62)]))
    breathing = score(spoken([("he is not breathing".split(), 0.62)]))
    assert breathing.base_score - pizza.base_score > 25
    assert BAND_NAMES.index(pizza.band) >= BAND_NAMES.index("normal")


@pytest.mark.parametrize(("text", "kind"), [
    ("sorry wrong number", "wrong_number"),
    ("hello this is a test call just checking if it works", "test_call"),
    ("i want to order a pizza with extra cheese", "order_or_booking"),
    ("the street light in our lane is not working", "service_request"),
    ("can you tell me the train timings to mumbai", "enquiry"),
])
def test_a_clearly_heard_non_emergency_is_marked_and_demoted_with_its_reason(text, kind):
    result = score(spoken([(text.split(), 0.95)]))
    assert result.non_emergency_kind == kind
    assert result.band in ("normal", "low")
    assert any("sounds like" in r for r in result.reasons)


def test_words_of_a_threat_to_life_cancel_a_non_emergency_cue():
    result = score(spoken([("this is a test call no wait my father is not breathing".split(), 0.95)]))
    assert result.non_emergency_kind == ""
    assert result.band == "critical"


# --------------------------------------------------------------------------------------------
# Silent calls
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(probabilities=st.dictionaries(st.sampled_from(["happy", "neutral", "fearful", "angry"]),
                                     st.floats(0.01, 1.0), min_size=1),
       prank_count=st.integers(0, 20), trust=st.floats(0, 1))
def test_a_silent_call_is_flagged_for_a_call_back_never_low_never_above_a_spoken_emergency(
        probabilities, prank_count, trust):
    silent = triage(TriageEvidence(emotion_probabilities=probabilities, acoustic_trust=trust,
                                   words=WordEvidence(no_speech=True), confirmed_prank_count=prank_count))
    assert silent.silent_call and silent.reasons == [SILENT_REASON]
    assert silent.band == band_for(SILENT_CALL_SCORE) == "high"
    spoken_emergency = score(spoken([(["help", "he", "is", "bleeding"], 0.5)]))
    assert silent.base_score < spoken_emergency.base_score
    assert silent.base_score < typical_genuine_score(DEFAULT_CONFIG)


def test_a_failed_transcription_is_not_a_silent_call():
    failed = triage(TriageEvidence(emotion_probabilities=VOICE, words=WordEvidence(no_speech=True),
                                   transcription_failed=True))
    assert not failed.silent_call and failed.provisional
    assert failed.base_score >= typical_genuine_score(DEFAULT_CONFIG) - EPS


# --------------------------------------------------------------------------------------------
# The bounded wait per band
# --------------------------------------------------------------------------------------------

scores = st.floats(0, 100, allow_nan=False)
max_waits = st.floats(10, 900)


def _key(base: float, received: float, config: TriageConfig) -> float:
    """The stored queue key of a call of this base score received at ``received`` (epoch s)."""
    return queue_key(band_for(base), received + allowance(base, config))


@PROPERTY
@given(a=scores, b=scores, max_wait=max_waits)
def test_a_higher_score_is_never_allowed_to_wait_longer(a, b, max_wait):
    config = TriageConfig(version=1, max_wait_seconds=max_wait)
    low, high = sorted((a, b))
    assert allowance(high, config) <= allowance(low, config) + EPS
    # so among calls received together the higher score comes first
    assert _key(high, 1e9, config) >= _key(low, 1e9, config) - EPS


@PROPERTY
@given(base=scores, max_wait=max_waits)
def test_every_call_is_allowed_no_longer_than_its_bands_bound(base, max_wait):
    config = TriageConfig(version=1, max_wait_seconds=max_wait)
    assert 0 < allowance(base, config) <= band_bounds(config)[band_for(base)] + EPS


@PROPERTY
@given(late=scores, fresh=scores, extra=st.floats(0, 3600), max_wait=max_waits, received=st.floats(1e9, 2e9))
def test_a_call_past_its_bound_is_ahead_of_every_call_of_its_tier_or_below_not_yet_due(late, fresh, extra, max_wait,
                                                                                        received):
    config = TriageConfig(version=1, max_wait_seconds=max_wait)
    now = received + allowance(late, config) + extra
    assert due_in(late, now - received, config) <= 1e-6
    assume(QUEUE_TIERS[band_for(fresh)] >= QUEUE_TIERS[band_for(late)])
    # the fresh call arrives now: it is due later than the late call was (to the float resolution of
    # keys near -2e10 s: a few microseconds)
    assert _key(late, received, config) >= _key(fresh, now, config) - 1e-4


@PROPERTY
@given(base=scores, waited=st.floats(0, 30 * 86400), fresh=scores, max_wait=max_waits, now=st.floats(1e9, 2e9))
def test_no_wait_puts_a_call_ahead_of_a_critical_or_high_call_of_a_higher_band(base, waited, fresh, max_wait, now):
    config = TriageConfig(version=1, max_wait_seconds=max_wait)
    assume(band_for(fresh) in ("critical", "high") and BAND_NAMES.index(band_for(fresh)) < BAND_NAMES.index(band_for(base)))
    assert _key(fresh, now, config) > _key(base, now - waited, config)


def test_a_backlog_keeps_critical_calls_first_and_a_low_call_moves_up_through_the_normal_calls():
    config = DEFAULT_CONFIG
    now = 1_000_000.0
    low_prank = _key(15.0, now - 236, config)  # LOW, waiting 3 min 56 s
    critical = _key(85.0, now - 106, config)  # CRITICAL knife call, waiting 1 min 46 s
    fresh_critical, fresh_high, fresh_normal = (_key(score, now, config) for score in (85.0, 60.0, 40.0))
    assert critical > fresh_critical > fresh_high > fresh_normal > low_prank
    # A LOW call (30 min at the bottom of the band) passes the NORMAL calls (12 min at the bottom of
    # theirs) received more than 18 min after it; past its bound it is ahead of every NORMAL call not
    # yet due ...
    assert _key(0.0, now - 18.5 * 60, config) > _key(25.0, now, config) > _key(0.0, now - 17.5 * 60, config)
    assert _key(0.0, now - 30 * 60, config) > _key(25.0, now - 11 * 60, config)
    # ... and never ahead of a HIGH or CRITICAL call, however long it waits.
    assert fresh_high > _key(0.0, now - 5 * 3600, config)
    assert wait_reason(0.0, 31 * 60, config) == \
        "waiting 31 min: past its 30 min bound, ahead of the NORMAL and LOW calls not yet due"
    assert wait_reason(60.0, 4 * 60, config) == "waiting 4 min: past its 2 min 51 s bound, ahead of the HIGH calls not yet due"


@pytest.mark.parametrize("max_wait", [1e308, 1e12, float("inf"), 5.0])
def test_no_setting_switches_off_the_bounded_wait(max_wait):
    from core.triage.config import ConfigError

    with pytest.raises(ConfigError, match="max_wait_seconds must be from 10 to 900"):
        TriageConfig(version=1, max_wait_seconds=max_wait)


def test_a_bite_at_home_is_no_non_emergency():
    result = score(spoken([("there is a snake in my house it bit my son".split(), 0.9)]))
    assert result.non_emergency_kind == "" and result.band in ("high", "critical")
