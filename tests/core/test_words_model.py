"""The words model: trained, saved as JSON with its checksum, read back, and counted in the triage
within its weight and trust."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text.words_model import load_words_model, train_words_model
from core.triage.config import DEFAULT_CONFIG
from core.triage.evidence import TriageEvidence, WordEvidence
from core.triage.policy import triage

SHIPPED = Path(__file__).resolve().parents[2] / "ml_models" / "words-v2"
EMERGENCIES = ["my father is not breathing send an ambulance", "there is a fire in the building people are inside",
               "a man has a knife and he is attacking us", "bike accident on the highway two people injured",
               "my mother fainted and is not waking up", "smoke everywhere the kitchen is burning",
               "someone broke into my house with a gun", "a truck hit a scooter the rider is bleeding"]
OTHERS = ["can I order a pizza with extra cheese", "what are the train timings to mumbai",
          "sorry wrong number I wanted my uncle", "this is a test call just checking the line",
          "the street light in my lane is not working", "I want to book a cab for tomorrow",
          "tell me a joke I am bored", "what is the balance in my account"]
TYPES = ["medical", "fire", "crime", "road_accident", "medical", "fire", "crime", "road_accident"]


@pytest.fixture(scope="module")
def small_model():
    texts = EMERGENCIES * 3 + OTHERS * 3
    labels = [True] * 24 + [False] * 24
    groups = [f"e{i % 8}" for i in range(24)] + [f"o{i % 8}" for i in range(24)]
    incidents = TYPES * 3 + [None] * 24
    return train_words_model(texts, labels, groups, metadata={"version": "words-test", "licence": "test"},
                             incident_types=incidents, folds=4)


def test_it_ranks_emergencies_above_other_calls_and_names_its_words(small_model):
    urgent = small_model.predict("please help my son is not breathing")
    order = small_model.predict("I would like to order a pizza")
    assert urgent.p_emergency > 0.5 > order.p_emergency
    assert urgent.drivers and set(urgent.drivers) <= set("please help my son is not breathing".split()) | {
        "not breathing", "is not", "son is", "my son", "help my", "please help"}
    assert small_model.metadata["training_data_sha256"] and small_model.metadata["kind"] == "words"


def test_the_lexicons_incident_phrases_teach_the_incident_head_and_leave_the_emergency_head_alone(small_model):
    phrases = [("electrocuted", "medical"), ("current laga", "medical"), ("transformer fire", "fire"),
               ("gas cylinder blast", "fire"), ("chain snatched", "crime"), ("robbers", "crime"),
               ("bus overturned", "road_accident"), ("knocked down", "road_accident")]
    texts = EMERGENCIES * 3 + OTHERS * 3
    taught = train_words_model(texts, [True] * 24 + [False] * 24,
                               [f"e{i % 8}" for i in range(24)] + [f"o{i % 8}" for i in range(24)],
                               metadata={"version": "words-test", "licence": "test"},
                               incident_types=TYPES * 3 + [None] * 24, folds=4, incident_phrases=phrases)
    assert taught.metadata["incident_phrases"] == len(phrases)
    assert small_model.predict("my chain snatched at the market").incident_type != "crime"  # not learned from calls
    for text, incident in [("my uncle got electrocuted near the pole", "medical"),
                           ("a bus overturned near the school", "road_accident"), ("my chain snatched at the market", "crime")]:
        assert taught.predict(text).incident_type == incident, text
        assert taught.predict(text).p_emergency == small_model.predict(text).p_emergency  # the emergency head is the same


def test_saved_as_json_it_reads_back_the_same_and_a_tampered_file_is_refused(small_model, tmp_path):
    small_model.save(tmp_path / "m")
    again = load_words_model(tmp_path / "m")
    for text in EMERGENCIES + OTHERS + ["completely new words here"]:
        assert again.predict(text) == small_model.predict(text)
    artefact = tmp_path / "m" / "words_model.json"
    state = json.loads(artefact.read_text())
    state["intercept"] += 5.0
    artefact.write_text(json.dumps(state, sort_keys=True))
    with pytest.raises(ValueError, match="does not match its recorded checksum"):
        load_words_model(tmp_path / "m")


def test_the_shipped_model_is_whole_and_says_what_it_was_trained_on(tmp_path):
    model = load_words_model(SHIPPED)
    meta = model.metadata
    assert meta["version"] == "words-v2" and "licence" in meta and meta["training_data_sha256"]
    assert meta["figures"]["emergency_auc_heldout_vs_non_genuine"] > 0.75  # measured on held-out scripts/voices
    assert 0 < model.trust < 1
    assert model.predict("help my husband collapsed he is not breathing").p_emergency > \
        model.predict("hello I want to order pizza with extra cheese").p_emergency
    copy = tmp_path / "copy"
    shutil.copytree(SHIPPED, copy)
    (copy / "words_model.json").write_text((copy / "words_model.json").read_text().replace("0.", "1.", 1))
    with pytest.raises(ValueError):
        load_words_model(copy)


def _words(p: float | None, trust: float = 0.8) -> WordEvidence:
    return WordEvidence(severity=0.2, model_p_emergency=p, model_trust=trust, model_drivers=["breathing"])


@settings(max_examples=60, deadline=None)
@given(p1=st.floats(0, 1), p2=st.floats(0, 1), trust=st.floats(0, 1))
def test_the_model_moves_a_call_within_its_weight_and_trust_and_more_emergency_never_lowers(p1, p2, trust):
    low, high = sorted((p1, p2))
    a = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=_words(low, trust)))
    b = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=_words(high, trust)))
    assert b.base_score >= a.base_score - 1e-9
    for result, p in ((a, low), (b, high)):
        model = next(c for c in result.components if c.name == "words_model")
        assert abs(model.contribution) <= DEFAULT_CONFIG.weights["words_model"] * trust + 1e-9
        assert model.contribution == pytest.approx(DEFAULT_CONFIG.weights["words_model"] * trust * (2 * p - 1))


def test_without_a_reading_the_model_counts_for_nothing_and_its_words_are_quoted():
    none = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=_words(None)))
    assert next(c for c in none.components if c.name == "words_model").contribution == 0.0
    sure = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=_words(0.95)))
    assert any(r == "words model: an emergency (95%; 'breathing')" for r in sure.reasons)


@settings(max_examples=60, deadline=None)
@given(p=st.floats(0, 1), trust=st.floats(0, 1), severity=st.floats(0, 1))
def test_the_words_model_alone_never_puts_a_call_in_low(p, trust, severity):
    words = WordEvidence(severity=severity, other_confidence=1.0, model_p_emergency=p, model_trust=trust)
    result = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=words))
    assert result.band != "low"


def test_low_takes_a_cue_an_operator_can_read():
    from core.triage.evidence import Cue

    words = WordEvidence(severity=0.0, other_confidence=1.0, model_p_emergency=0.02, model_trust=1.0)
    quiet = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0}, words=words))
    assert quiet.base_score == 25.0 and any(c.name == "low_floor" for c in quiet.components)
    joke = Cue(phrase="just kidding", start=1.0, end=1.6, strength=0.8)
    pranked = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0},
                                    words=WordEvidence(severity=0.0, other_confidence=1.0, model_p_emergency=0.02,
                                                       model_trust=1.0, prank_likelihood=0.8, prank_cues=[joke])))
    assert pranked.band == "low" and not any(c.name == "low_floor" for c in pranked.components)
