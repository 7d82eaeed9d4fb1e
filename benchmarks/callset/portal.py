"""The portal side of the call-ranking benchmark: calls go in through the real intake and pipeline,
and stored step results are scored again with the code as it is now.

* :func:`setup` - the embedded configuration (SQLite, in-process analysis threads, no Redis or Celery).
* :func:`take_call` - ``POST /api/v1/cases/`` with an intake key (a bare audio body, as a phone system
  pushes it), wait for the in-process analysis, read what the portal stored.
* :func:`rescore` - from a stored call's step results (transcript, emotion prediction): the text
  analysis again (the pipeline's own function) and the triage from the evidence the portal's own
  ``analysis.services.case_evidence`` builds, with the voice-neutral and words-unknown ablations.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]


def setup(database_url: str | None = None) -> None:
    """Django with the embedded settings: a fresh SQLite database (migrated; the shipped emotion
    models are registered by the migration), analysis in this process's threads."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    work = Path(tempfile.mkdtemp(prefix="call-bench-"))
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{work / 'portal.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):  # in-process analysis, in-memory layers
        os.environ.pop(name, None)
    from benchmarks._django import setup_django

    setup_django(os.environ["DATABASE_URL"])
    import logging

    logging.getLogger("analysis").setLevel(logging.WARNING)
    logging.getLogger("calls").setLevel(logging.WARNING)


def intake_client() -> Any:
    """A REST client holding an integration client's intake key (how a phone system pushes calls)."""
    from rest_framework.test import APIClient

    from accounts.api_keys import api_key_issue, integration_client_create
    from accounts.models import User

    admin, _ = User.objects.get_or_create(username="call-bench-admin", defaults={"role": "admin"})
    client = integration_client_create(admin=admin, name=f"call-bench-{int(time.time())}")
    _, secret = api_key_issue(admin=admin, client=client, name="bench")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return api


def _step_dict(step: Any) -> dict:
    return {"state": step.state, "result": step.result, "seconds": step.seconds,
            "model_version": step.model_version, "error": step.error}


def take_call(api: Any, wav: bytes, caller_number: str, timeout: float = 600) -> dict:
    """Push one call in and wait until its analysis is finished; what the portal stored."""
    from analysis import dispatch
    from analysis.models import TriageScore
    from analysis.selectors import case_analysis_get
    from calls.models import Case

    started = time.perf_counter()
    response = api.generic("POST", f"/api/v1/cases/?caller_number={quote(caller_number)}", wav,
                           content_type="audio/wav")
    if response.status_code != 201:
        raise RuntimeError(f"intake refused the call: {response.status_code} {response.content[:300]!r}")
    body = response.json()
    dispatch.wait_for_inprocess(timeout=timeout)
    seconds = time.perf_counter() - started
    case = Case.objects.get(pk=body["id"])
    analysis = case_analysis_get(case)
    score = TriageScore.objects.filter(case=case).order_by("-pk").first()
    words = analysis.words
    return {
        "case_id": case.pk,
        "caller_number": case.caller_number,
        "audio_error": body.get("audio_error"),
        "seconds": round(seconds, 3),
        "analysis_state": case.analysis_state,
        "score": case.priority_base,
        "band": case.priority_band,
        "reasons": list(case.priority_reasons or []),
        "components": score.components if score else [],
        "provisional": bool(score and score.provisional),
        "suspected_prank": case.suspected_prank,
        "non_emergency_kind": getattr(case, "non_emergency", ""),
        "silent_call": getattr(case, "silent_call", None),
        "incident_pred": case.incident_type or None,
        "transcript": analysis.transcript.text if analysis.transcript else None,
        "word_confidence": words.word_confidence if words is not None and words.known else None,
        "steps": {name: _step_dict(step) for name, step in analysis.steps.items()},
    }


# -- scoring stored calls again --------------------------------------------------------------------


def _voice_neutral(evidence: Any) -> Any:
    """The evidence with a voice that says nothing: the policy's own helper where it has one, else
    the same replacement its "without the voice" check makes (trust 0, nothing unfamiliar)."""
    from core.triage import policy

    helper = getattr(policy, "_voice_neutral", None)
    if helper is not None:
        return helper(evidence)
    return dataclasses.replace(evidence, acoustic_trust=0.0, voice_unfamiliar=False,
                               emotion_probabilities=evidence.emotion_probabilities or {"neutral": 1.0},
                               emotion_failed=False)


def _words_unknown(evidence: Any) -> Any:
    return dataclasses.replace(evidence, words=None, transcription_failed=False)


def _summary(result: Any, incident: str | None) -> dict:
    distress = next((c for c in result.components if c.name == "distress"), None)
    return {"score": float(result.base_score), "band": result.band, "incident_pred": incident,
            "voice_distress": round(float(distress.value), 4) if distress else None,
            "reasons": list(result.reasons)[:3]}


def rescore(record: dict, config: Any = None, words_model: Any = None) -> dict[str, dict]:
    """Score a stored call again with the code as it is now, without running Whisper or the emotion
    model: {'both': ..., 'words': ... (voice neutral), 'voice': ... (words unknown), 'written': ... (the
    script's words as written, a perfect transcript, with the voice as recorded)}. ``words_model``:
    the one to read the words with, instead of the active version."""
    from analysis.models import StepName, StepState
    from analysis.selectors import triage_config_active
    from core.speech.transcript import Transcript
    from core.triage.policy import triage

    config = config or triage_config_active()
    evidence, words = _evidence(record, record.get("steps", {}), config, words_model)
    incident = words.incident_type if words is not None else None
    word_confidence = words.word_confidence if words is not None and words.known else None
    out = {
        "both": _summary(triage(evidence, config), incident),
        "words": _summary(triage(_voice_neutral(evidence), config), incident),
        "voice": _summary(triage(_words_unknown(evidence), config), None),
    }
    for summary in out.values():
        summary["word_confidence"] = word_confidence
    if record.get("kind") != "human" and record.get("text") is not None:
        written = Transcript(text=record["text"], engine="script").to_dict()
        steps = {**record.get("steps", {}), StepName.TRANSCRIPTION: {"state": StepState.DONE, "result": written}}
        evidence, words = _evidence(record, steps, config, words_model)
        out["written"] = _summary(triage(evidence, config), words.incident_type if words is not None else None)
        out["written"]["word_confidence"] = 1.0
    return out


def _evidence(record: dict, stored_steps: dict, config: Any, words_model: Any = None) -> tuple[Any, Any]:
    """The evidence the portal builds from these step results (the text step done again from the
    transcript by the pipeline's own function), and the text analysis."""
    from django.utils import timezone

    from analysis import pipeline, services
    from analysis.models import AnalysisStep, StepName, StepState
    from analysis.selectors import CaseAnalysis
    from calls.models import Case
    from core.speech.transcript import Transcript

    steps = {name: AnalysisStep(name=name, state=s["state"], result=s["result"], model_version=s.get("model_version", ""),
                                error=s.get("error", "")) for name, s in stored_steps.items()}
    transcription = steps.get(StepName.TRANSCRIPTION)
    if transcription is not None and transcription.state == StepState.DONE:
        words = pipeline.analyse_words(Transcript.from_dict(transcription.result), model=words_model)
        steps[StepName.TEXT] = AnalysisStep(name=StepName.TEXT, state=StepState.DONE, result=words.to_dict())
    analysis = CaseAnalysis(recording=None, steps=steps)
    case = Case(caller_number=record.get("caller_number") or "+919800000000", received_at=timezone.now())
    return services.case_evidence(case, config, analysis), analysis.words
