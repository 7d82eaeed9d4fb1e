"""Silent calls and non-emergencies through the real intake, pipeline (Whisper, the text analysis)
and pages: marked for the operator, never dropped, never LOW for a silent caller."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis import dispatch
from analysis.models import TriageScore
from analysis.selectors import case_analysis_get
from calls.models import AnalysisState, CaseEvent, EventKind
from core.triage.policy import SILENT_REASON
from tests.conftest import encode

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def inprocess(settings):
    settings.ANALYSIS_BACKEND = "inprocess"


def spoken(text: str, tmp_path: Path, name: str = "call.wav") -> SimpleUploadedFile:
    path = tmp_path / name
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), text], check=True, capture_output=True)
    return SimpleUploadedFile(name, path.read_bytes())


def test_a_recording_of_only_silence_makes_a_silent_call_flagged_for_a_call_back(case_factory, client, operator):
    silence = SimpleUploadedFile("blank.wav", encode(np.zeros(16_000 * 4, np.float32), "wav"))
    case = case_factory(audio=silence)
    case.refresh_from_db()
    rejected = CaseEvent.objects.get(case=case, kind=EventKind.AUDIO_REJECTED)
    assert rejected.data["silent"] is True and "only silence" in rejected.reason
    assert case.silent_call and case.priority_band == "high"
    assert case.priority_reasons == [SILENT_REASON]
    assert TriageScore.objects.filter(case=case).first().components[-1]["name"] == "waiting"
    client.force_login(operator)
    queue = client.get(reverse("calls:case_list")).content.decode()
    assert "silent: call back" in queue
    assert "silent call: call back" in client.get(case.get_absolute_url()).content.decode()


def test_other_bad_audio_is_not_a_silent_call(case_factory):
    case = case_factory(audio=SimpleUploadedFile("junk.wav", b"not audio at all" * 100))
    case.refresh_from_db()
    assert not case.silent_call
    assert case.priority_band in ("high", "critical")  # unknown words: a typical genuine call at least


def test_a_spoken_wrong_number_is_marked_demoted_and_kept_in_the_queue(case_factory, client, operator, tmp_path):
    wrong = case_factory(audio=spoken("Hello? Oh, sorry, wrong number. I dialled by mistake.", tmp_path))
    urgent = case_factory(audio=spoken("Please help, my father is not breathing, send an ambulance.", tmp_path,
                                       "urgent.wav"))
    dispatch.wait_for_inprocess(timeout=180)
    wrong.refresh_from_db()
    urgent.refresh_from_db()
    assert wrong.analysis_state == urgent.analysis_state == AnalysisState.DONE
    assert wrong.non_emergency == "wrong_number", wrong.priority_reasons
    assert wrong.priority_band in ("normal", "low") and not wrong.silent_call
    assert urgent.priority_band == "critical" and urgent.non_emergency == ""
    # the words model read both, beside the lexicon, and its reading is stored with the text step
    readings = {case.pk: case_analysis_get(case).words.model for case in (wrong, urgent)}
    assert readings[urgent.pk]["version"] == "words-v2"
    assert readings[urgent.pk]["p_emergency"] > readings[wrong.pk]["p_emergency"]
    assert any("sounds like wrong number" in r for r in wrong.priority_reasons)
    client.force_login(operator)
    queue = client.get(reverse("calls:case_list")).content.decode()
    assert "not an emergency? wrong number" in queue  # marked, never dropped
    assert queue.index(f"#{urgent.pk}<") < queue.index(f"#{wrong.pk}<")
    page = client.get(wrong.get_absolute_url()).content.decode()
    assert "not an emergency? wrong number" in page
    assert "this NORMAL call may wait" in page or "this LOW call may wait" in page
