"""The embedded runner (threads in the web process) and the analysis failure paths."""

import pytest
from django.urls import reverse

from analysis import dispatch, pipeline
from analysis.models import AnalysisStep, StepName, StepState
from calls.models import AnalysisState
from core.triage.policy import DEFAULT_CONFIG, typical_genuine_score

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def inprocess(settings):
    settings.ANALYSIS_BACKEND = "inprocess"


def test_embedded_run_analyses_a_call_in_the_background(case_factory, upload, client, operator):
    case = case_factory(audio=upload("m4a"))
    dispatch.wait_for_inprocess(timeout=120)
    case.refresh_from_db()
    assert case.analysis_state == AnalysisState.DONE, case.analysis_error
    states = dict(AnalysisStep.objects.filter(recording__case=case).values_list("name", "state"))
    assert states == {name: StepState.DONE for name in StepName.values}
    recording = case.recordings.get()
    client.force_login(operator)
    picture = client.get(reverse("calls:recording_file", args=[recording.pk, "picture"]))
    assert picture["Content-Type"] == "image/png" and b"".join(picture.streaming_content)[:4] == b"\x89PNG"
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Waveform and spectrogram" in page and 'id="probabilities"' in page and 'id="transcript"' in page


def test_rerunning_a_step_does_not_duplicate_it(case_factory, upload):
    case = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=120)
    recording = case.recordings.get()
    before = {s.name: (s.pk, s.attempts, s.result) for s in AnalysisStep.objects.filter(recording=recording)}
    pipeline.run_job("emotion", recording.pk)
    pipeline.run_job("words", recording.pk)
    after = {s.name: (s.pk, s.attempts, s.result) for s in AnalysisStep.objects.filter(recording=recording)}
    assert after == before


def test_no_engine_for_the_language_is_shown_and_not_harmless(case_factory, upload, settings, tmp_path):
    settings.SPEECH_MODELS_DIR = tmp_path / "no-models"  # Hindi needs a Vosk model; none installed
    case = case_factory(audio=upload("wav"), language="hi")
    dispatch.wait_for_inprocess(timeout=120)
    case.refresh_from_db()
    step = AnalysisStep.objects.get(recording__case=case, name=StepName.TRANSCRIPTION)
    assert step.state == StepState.UNAVAILABLE and "transcription unavailable for hi" in step.error
    assert case.priority_base >= typical_genuine_score(DEFAULT_CONFIG)
    assert any("treated as urgent" in r for r in case.priority_reasons)


def test_a_missing_model_fails_visibly_at_a_safe_priority(case_factory, upload, settings, tmp_path, client, operator):
    settings.EMOTION_MODEL_DIR = tmp_path / "missing-model"
    case = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=120)
    case.refresh_from_db()
    assert case.analysis_state == AnalysisState.FAILED
    assert case.priority_band in ("high", "critical")
    client.force_login(operator)
    page = client.get("/").content.decode()
    assert f"#{case.pk}" in page and "Analysis failed" in page


def test_unfinished_analysis_is_resumed(case_factory, upload):
    case = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=120)
    step = AnalysisStep.objects.get(recording__case=case, name=StepName.TEXT)
    AnalysisStep.objects.filter(pk=step.pk).update(state=StepState.RUNNING)  # as if the process died
    assert dispatch.analysis_resume_unfinished() == 1
    dispatch.wait_for_inprocess(timeout=120)
    step.refresh_from_db()
    assert step.state == StepState.DONE
