"""At hang-up a live call's audio is analysed like any upload (the embedded in-process runner):
committed for real, so the hand-over on commit runs as in production."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync

from analysis import dispatch
from analysis.models import AnalysisStep, StepName, StepState
from calls.models import AnalysisState
from live.clients import twilio_messages
from live.models import LiveStream

from .helpers import closed, connect, key_headers, off_loop, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def inprocess(settings):
    settings.ANALYSIS_BACKEND = "inprocess"


def test_the_hung_up_call_is_analysed_like_an_upload(intake, pcm_8k):
    _, secret = intake

    async def scenario():
        communicator, connected, _ = await connect(key_headers(secret))
        assert connected
        await send(communicator, twilio_messages(pcm_8k, call_sid="CA-fire", caller_number="9876543210"))
        assert (await closed(communicator))["code"] == 1000

    off_loop(async_to_sync(scenario))
    dispatch.wait_for_inprocess(timeout=240)
    case = LiveStream.objects.get(call_id="CA-fire").case
    case.refresh_from_db()
    assert case.analysis_state == AnalysisState.DONE, case.analysis_error
    steps = AnalysisStep.objects.filter(recording__case=case)
    assert dict(steps.values_list("name", "state")) == {name: StepState.DONE for name in StepName.values}
    words = str(steps.get(name=StepName.TRANSCRIPTION).result).lower()
    assert "fire" in words, words  # what the caller said, heard through a mu-law phone line
    assert case.incident_type in ("fire", "medical") and case.priority_reasons  # both are in the words
