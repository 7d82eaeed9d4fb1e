"""The hand-overs between stages, fed with each stage's real output: what one stage writes, the
next reads, with nothing lost on the way (a cue's words and time reach the case's reasons)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from django.urls import reverse

from analysis import pipeline
from analysis.models import AnalysisStep, StepName, StepState
from core.emotion.classifier import load_classifier
from core.emotion.gender import estimate_gender
from core.emotion.prediction import EmotionPrediction
from core.speech.transcribe import transcribe
from core.speech.transcript import Transcript, Word
from core.text.analysis import TextAnalysis, analyse
from core.triage.evidence import TriageEvidence, WordEvidence
from core.triage.policy import triage

BLEEDING = [("please", 0.4, 0.8), ("come", 0.8, 1.1), ("someone", 1.1, 1.6), ("is", 1.6, 1.8),
            ("bleeding", 1.8, 2.4), ("here", 2.4, 2.8)]


def _spoken(words=BLEEDING) -> Transcript:
    return Transcript(text=" ".join(w for w, _, _ in words), words=[Word(w, a, b, 0.93) for w, a, b in words],
                      language="en", engine="test", model="hand-timed")


def _through_json(data: dict) -> dict:
    return json.loads(json.dumps(data))


@pytest.fixture(scope="module")
def classifier():
    from django.conf import settings

    return load_classifier(settings.EMOTION_MODEL_DIR)


def test_the_classifiers_prediction_round_trips_and_reaches_the_reasons(classifier, speech_clip):
    prediction = classifier.classify(speech_clip)
    stored = replace(prediction, gender=estimate_gender(speech_clip, model_dir=classifier.model_dir))
    assert EmotionPrediction.from_dict(_through_json(stored.to_dict())) == stored
    result = triage(TriageEvidence(emotion_probabilities=stored.probabilities))
    top = max(stored.probabilities, key=stored.probabilities.get)
    distress = next(c for c in result.components if c.name == "distress")
    assert distress.reason.startswith(f"sounds {top} ")


def test_a_real_transcript_round_trips_into_the_text_analysis(speech_samples_dir):
    from core.audio import load

    transcript = transcribe(load(speech_samples_dir / "en_fire.wav"), language="en")
    assert transcript.words and Transcript.from_dict(_through_json(transcript.to_dict())) == transcript
    analysis = analyse(Transcript.from_dict(_through_json(transcript.to_dict())))
    assert analysis == analyse(transcript)


def test_a_severity_cue_keeps_its_words_and_time_through_storage_into_the_score():
    analysis = analyse(_spoken())
    stored = TextAnalysis.from_dict(_through_json(analysis.to_dict()))
    assert stored == analysis
    result = triage(TriageEvidence(emotion_probabilities={"neutral": 1.0},
                                   words=WordEvidence.from_text_analysis(stored)))
    assert "words: 'bleeding' at 1.8 s" in result.reasons


def test_contracts_refuse_a_stored_result_with_a_missing_key():
    data = analyse(_spoken()).to_dict()
    del data["findings"][0]["start"]
    with pytest.raises(KeyError):
        TextAnalysis.from_dict(data)
    data = analyse(_spoken()).to_dict()
    del data["severity"]
    with pytest.raises(KeyError, match="severity"):
        TextAnalysis.from_dict(data)


def test_a_result_stored_before_a_field_was_added_still_reads():
    stored = analyse(_spoken()).to_dict()
    for key in ("word_confidence", "unsure"):
        del stored[key]
    assert TextAnalysis.from_dict(stored).unsure is False
    transcript = _spoken().to_dict()
    del transcript["model_checksum"], transcript["fallback"]
    assert Transcript.from_dict(transcript).fallback == ""


@pytest.mark.django_db
def test_someone_is_bleeding_reaches_the_case_pages_priority_reasons(
    case_factory, upload, monkeypatch, client, operator
):
    """The real pipeline stores each step's real result; the rescore and the page read them back."""
    case = case_factory(audio=upload("wav"))
    recording = case.recordings.get()
    monkeypatch.setattr(pipeline, "_transcribe", lambda rec: (_spoken(), "test:hand-timed"))
    pipeline.run_emotion(recording.pk)  # the real classifier on the real recording
    pipeline.run_words(recording.pk)  # the real text analysis of the sentence
    states = dict(AnalysisStep.objects.filter(recording=recording).values_list("name", "state"))
    assert states == {name: StepState.DONE for name in StepName.values}
    case.refresh_from_db()
    assert "words: 'bleeding' at 1.8 s" in case.priority_reasons
    assert any(r.startswith("sounds ") for r in case.priority_reasons)
    client.force_login(operator)
    page = client.get(reverse("calls:case_detail", args=[case.pk])).content.decode()
    assert "words: &#x27;bleeding&#x27; at 1.8 s" in page
    panel = client.get(reverse("analysis:case_panel", args=[case.pk])).content.decode()
    assert "words: &#x27;bleeding&#x27; at 1.8 s" in panel and "bleeding" in panel
