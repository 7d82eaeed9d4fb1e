"""How the analysis app follows what happens to cases (connected in AnalysisConfig.ready)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from calls.models import Case, Recording

from . import dispatch, pipeline, services
from .models import TriageSettings


def on_case_created(sender: type[Case], *, case: Case, **kwargs: Any) -> None:
    """A new call enters the queue at once, at a safe provisional priority."""
    services.case_rescore(case_id=case.pk)


def on_recording_attached(sender: type[Recording], *, case: Case, recording: Recording, **kwargs: Any) -> None:
    """The case shows 'analysing' at once; the analysis starts when the recording is committed."""
    pipeline.analysis_prepare(recording)
    services.case_rescore(case_id=case.pk)
    transaction.on_commit(lambda: dispatch.analysis_dispatch(recording_id=recording.pk))


def on_audio_rejected(sender: type[Case], *, case: Case, silent: bool, **kwargs: Any) -> None:
    """A recording of only silence makes the call a silent call: flagged for a call-back."""
    if silent:
        services.case_rescore(case_id=case.pk)


def on_triage_settings_saved(sender: type[TriageSettings], **kwargs: Any) -> None:
    transaction.on_commit(dispatch.open_cases_rescore_dispatch)


def on_model_trust_changed(sender: Any, *, model_version: str, **kwargs: Any) -> None:
    transaction.on_commit(dispatch.open_cases_rescore_dispatch)


def on_emotion_step_reset(sender: Any, *, recording_id: int, **kwargs: Any) -> None:
    transaction.on_commit(partial(dispatch.emotion_dispatch, recording_id=recording_id))
