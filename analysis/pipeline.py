"""The background analysis of one recording: emotion, then (independently) words; each rescores.

One code path, two runners: Celery tasks (production, CI) or in-process threads (embedded
default). Emotion and words run as separate jobs so the quick acoustic score never waits
behind a slow transcription. Steps are idempotent: a step already done is not redone, so a
redelivered task (acks_late after a killed worker) just finishes what was left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction
from django.utils import timezone

from calls import broadcast
from calls.models import Recording
from core import audio
from core.kernels import compile_kernels

from .models import AnalysisStep, StepName, StepState

logger = logging.getLogger(__name__)

# Errors worth retrying: the database or broker blinked. Everything else fails the step.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

JOBS = ("emotion", "words")


def analysis_prepare(recording: Recording) -> None:
    """Create the pending steps (inside the caller's transaction), so the case shows 'analysing'."""
    for name in StepName.values:
        AnalysisStep.objects.get_or_create(recording=recording, name=name)


def analysis_dispatch(*, recording_id: int) -> None:
    for job in JOBS:
        if settings.ANALYSIS_BACKEND == "celery":
            from . import tasks

            getattr(tasks, f"analyse_{job}").delay(recording_id)
        else:
            _executor(job).submit(_run_in_thread, job, recording_id)


def run_job(job: str, recording_id: int) -> None:
    {"emotion": run_emotion, "words": run_words}[job](recording_id)


# -- steps ------------------------------------------------------------------------------------


def run_emotion(recording_id: int) -> None:
    recording = Recording.objects.select_related("case").get(pk=recording_id)
    _run_step(recording, StepName.EMOTION, lambda: _classify(recording))
    _rescore(recording)
    _save_picture(recording)  # after the score: the queue must not wait for a drawing


def run_words(recording_id: int) -> None:
    recording = Recording.objects.select_related("case").get(pk=recording_id)
    transcript = _run_step(recording, StepName.TRANSCRIPTION, lambda: _transcribe(recording))
    if transcript is None:
        _finish_without(recording, StepName.TEXT, "no transcript to analyse")
    else:
        _run_step(recording, StepName.TEXT, lambda: _analyse_words(transcript))
    _rescore(recording)


def _classify(recording: Recording) -> tuple[dict, str]:
    from core.emotion.classifier import load_classifier
    from core.emotion.gender import estimate_gender

    samples = _samples(recording)
    classifier = load_classifier(settings.EMOTION_MODEL_DIR)
    prediction = classifier.classify(samples)
    result = prediction.to_dict()
    gender = estimate_gender(samples, model_dir=settings.EMOTION_MODEL_DIR)
    result["gender"] = {"label": gender.label, "confidence": gender.confidence}
    return result, prediction.model_version


def _save_picture(recording: Recording) -> None:
    """Best effort: a call without its picture is still a call."""
    from django.core.files.base import ContentFile

    from core.plots import call_picture

    if recording.picture:
        return
    try:
        recording.picture.save("picture.png", ContentFile(call_picture(_samples(recording))), save=False)
        recording.save(update_fields=["picture"])
    except Exception:
        logger.exception("Could not draw the picture of recording %s", recording.pk)


def _transcribe(recording: Recording) -> tuple[dict, str]:
    from core.speech.transcribe import TranscriptionUnavailable, transcribe

    try:
        transcript = transcribe(
            _samples(recording), language=recording.case.language, models_dir=settings.SPEECH_MODELS_DIR
        )
    except TranscriptionUnavailable as exc:
        raise StepUnavailable(str(exc)) from exc
    return transcript.to_dict(), f"{transcript.engine}:{transcript.model}"


def _analyse_words(transcript: dict) -> tuple[dict, str]:
    from core.speech.transcribe import Transcript
    from core.text.analysis import analyse

    analysis = analyse(Transcript.from_dict(transcript), extra_lexicon_dir=settings.EXTRA_LEXICON_DIR)
    result = analysis.to_dict()
    result["transcript"] = transcript.get("text", "")
    result["word_count"] = len(transcript.get("words", []))
    return result, "lexicon"


def _samples(recording: Recording):
    return audio.load(recording.normalised.path)


# -- step bookkeeping ---------------------------------------------------------------------------


class StepUnavailable(RuntimeError):
    """The step cannot run for this recording (e.g. no engine for its language): not an error."""


def _run_step(recording: Recording, name: str, work: Callable[[], tuple[dict, str]]) -> dict | None:
    """Run one step unless it is already done; returns its result, or None if it did not succeed."""
    step = AnalysisStep.objects.get_or_create(recording=recording, name=name)[0]
    if step.state == StepState.DONE:
        return step.result
    step.state = StepState.RUNNING
    step.attempts += 1
    step.started_at = timezone.now()
    step.save(update_fields=["state", "attempts", "started_at"])
    started = time.perf_counter()
    try:
        result, version = work()
    except TRANSIENT_ERRORS:
        raise  # the runner retries; the step stays 'running' and is redone
    except StepUnavailable as exc:
        _finish(step, StepState.UNAVAILABLE, error=str(exc), seconds=time.perf_counter() - started)
        return None
    except Exception as exc:
        logger.exception("Step %s of recording %s failed", name, recording.pk)
        _finish(step, StepState.FAILED, error=_describe(exc), seconds=time.perf_counter() - started)
        return None
    _finish(step, StepState.DONE, result=result, version=version, seconds=time.perf_counter() - started)
    return result


def _finish(step: AnalysisStep, state: str, *, result=None, version="", error="", seconds=None) -> None:
    step.state = state
    step.result = result or {}
    step.model_version = version[:128]
    step.error = error
    step.seconds = seconds
    step.finished_at = timezone.now()
    step.save(update_fields=["state", "result", "model_version", "error", "seconds", "finished_at"])
    case_id = step.recording.case_id
    transaction.on_commit(lambda: broadcast.case_changed(case_id, "analysis", step=step.name, state=state))


def _finish_without(recording: Recording, name: str, why: str) -> None:
    step = AnalysisStep.objects.get_or_create(recording=recording, name=name)[0]
    if not step.finished:
        _finish(step, StepState.UNAVAILABLE, error=why)


def mark_job_failed(job: str, recording_id: int, error: str) -> None:
    """Called when a job gives up (retries exhausted): its unfinished steps fail visibly."""
    names = [StepName.EMOTION] if job == "emotion" else [StepName.TRANSCRIPTION, StepName.TEXT]
    for step in AnalysisStep.objects.filter(recording_id=recording_id, name__in=names):
        if not step.finished:
            _finish(step, StepState.FAILED, error=error)
    _rescore(Recording.objects.get(pk=recording_id))


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _rescore(recording: Recording) -> None:
    from .services import case_rescore

    with transaction.atomic():
        case_rescore(case_id=recording.case_id)


# -- in-process runner --------------------------------------------------------------------------

_executors: dict[str, ThreadPoolExecutor] = {}


def _executor(job: str) -> ThreadPoolExecutor:
    if job not in _executors:
        _executors[job] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"analysis-{job}")
    return _executors[job]


_warmed_up = False


def _run_in_thread(job: str, recording_id: int) -> None:
    global _warmed_up
    close_old_connections()
    try:
        if job == "emotion" and not _warmed_up:
            warm_up()  # load the model once, outside the step's own timing
            _warmed_up = True
        for attempt in range(3):
            try:
                run_job(job, recording_id)
                return
            except TRANSIENT_ERRORS as exc:
                logger.warning("Transient error in %s of recording %s: %s", job, recording_id, exc)
                close_old_connections()
                time.sleep(2**attempt)
        mark_job_failed(job, recording_id, "gave up after repeated database errors")
    except Exception:
        logger.exception("Analysis job %s of recording %s crashed", job, recording_id)
        mark_job_failed(job, recording_id, "the analysis crashed; see the server log")
    finally:
        close_old_connections()


def wait_for_inprocess(timeout: float = 60.0) -> None:
    """Block until queued in-process jobs are done (tests and management commands)."""
    deadline = time.monotonic() + timeout
    for executor in list(_executors.values()):
        future = executor.submit(lambda: None)
        future.result(timeout=max(0.0, deadline - time.monotonic()))


def analysis_resume_unfinished() -> int:
    """Re-dispatch recordings whose steps never finished (e.g. the process stopped)."""
    recording_ids = set(
        AnalysisStep.objects.filter(state__in=[StepState.PENDING, StepState.RUNNING]).values_list(
            "recording_id", flat=True
        )
    )
    for recording_id in recording_ids:
        analysis_dispatch(recording_id=recording_id)
    return len(recording_ids)


def warm_up() -> None:
    """Load the emotion model (after any fork) and compile the kernels, before the first call waits."""
    import numpy as np

    from core.emotion.classifier import ModelError, load_classifier

    compile_kernels()
    try:
        load_classifier(settings.EMOTION_MODEL_DIR).classify(np.zeros(16_000, dtype=np.float32) + 1e-3)
    except ModelError:
        logger.exception("Emotion model could not be loaded; calls will be scored without it")
