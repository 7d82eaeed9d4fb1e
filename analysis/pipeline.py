"""The background analysis of one recording: emotion, then (independently) words; each rescores.

Two jobs, so the quick acoustic score never waits behind a slow transcription; the runners
(Celery tasks or in-process threads) are in :mod:`analysis.dispatch`. Steps are idempotent: a
step already done is not redone, so a redelivered task (acks_late after a killed worker) just
finishes what was left. Each step stores its typed result's ``to_dict()``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from calls import broadcast
from calls.models import Recording
from calls.stored_audio import local_copy, stored_samples
from core import audio
from core.emotion.prediction import EmotionPrediction
from core.kernels import compile_kernels
from core.speech.transcript import Transcript
from core.text.analysis import TextAnalysis

from .baselines import voice_baseline, voice_baseline_learn
from .models import AnalysisStep, EmotionModelVersion, ShadowPrediction, StepName, StepState
from .selectors import emotion_model_active, emotion_model_challenger_current, emotion_model_folder
from .services import case_rescore
from .words_registry import words_model_active_folder, words_model_challenger_folder

logger = logging.getLogger(__name__)

# Errors worth retrying: the database or broker blinked. Everything else fails the step.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

JOBS = ("emotion", "words")
STEPS_OF_JOB = {"emotion": [StepName.EMOTION], "words": [StepName.TRANSCRIPTION, StepName.TEXT]}


class StepResult(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


ResultT = TypeVar("ResultT", EmotionPrediction, Transcript, TextAnalysis)


class StepUnavailable(RuntimeError):
    """The step cannot run for this recording (e.g. no engine for its language): not an error."""


def analysis_prepare(recording: Recording) -> None:
    """Create the pending steps (inside the caller's transaction), so the case shows 'analysing'."""
    for name in StepName.values:
        AnalysisStep.objects.get_or_create(recording=recording, name=name)


def _stale_emotion() -> Q:
    """Emotion steps handed over ANALYSIS_EMOTION_STALE_SECONDS ago and still not finished: the message
    was lost on its way to a worker (see the setting). Transcripts are left to the broker's visibility
    timeout: they may wait their turn for many minutes, and a second copy would double the backlog."""
    cutoff = timezone.now() - timedelta(seconds=settings.ANALYSIS_EMOTION_STALE_SECONDS)
    return Q(name__in=STEPS_OF_JOB["emotion"], state__in=(StepState.PENDING, StepState.RUNNING), dispatched_at__lt=cutoff)


def handed_over(recording_id: int, job: str) -> None:
    """Note that a job was handed to a runner (so the sweep leaves it alone until it is stale)."""
    AnalysisStep.objects.filter(Q(dispatched_at__isnull=True) | _stale_emotion(), recording_id=recording_id,
                                name__in=STEPS_OF_JOB[job]).update(dispatched_at=timezone.now())


def forgotten_jobs(older_than_s: float = 30) -> dict[int, tuple[str, ...]]:
    """Jobs whose steps were committed but never handed over (the web process died after the commit,
    the broker was down), older than `older_than_s` so that a hand-over on its way is not doubled, and
    emotion jobs handed over long ago that never finished (lost on the way to a worker).
    Steps are idempotent: a job handed over twice after all does its work once."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    forgotten = AnalysisStep.objects.filter(
        Q(state=StepState.PENDING, dispatched_at__isnull=True, created_at__lt=cutoff) | _stale_emotion())
    jobs: dict[int, set[str]] = {}
    for recording_id, name in forgotten.values_list("recording_id", "name"):
        jobs.setdefault(recording_id, set()).update(job for job, steps in STEPS_OF_JOB.items() if name in steps)
    for recording_id, names in jobs.items():
        logger.warning("Recording %s: handing over its forgotten %s job(s)", recording_id, ", ".join(sorted(names)))
    return {recording_id: tuple(sorted(names)) for recording_id, names in jobs.items()}


def run_job(job: str, recording_id: int) -> None:
    {"emotion": run_emotion, "words": run_words}[job](recording_id)


def run_emotion(recording_id: int) -> None:
    recording = Recording.objects.select_related("case").get(pk=recording_id)
    _run_step(recording, StepName.EMOTION, EmotionPrediction, lambda: _classify(recording))
    _rescore(recording)
    _shadow(recording)  # after the score: the queue never waits for the challenger
    # No picture here: drawing it took longer than the classification (160 ms for 9 s), and at 2 calls a
    # second it made the next call's first score wait. It is drawn when someone first looks at it.


def run_words(recording_id: int) -> None:
    recording = Recording.objects.select_related("case").get(pk=recording_id)
    transcript = _run_step(recording, StepName.TRANSCRIPTION, Transcript, lambda: _transcribe(recording))
    if transcript is None:
        _finish_without(recording, StepName.TEXT, "no transcript to analyse")
    else:
        _run_step(recording, StepName.TEXT, TextAnalysis, lambda: (analyse_words(transcript), "lexicon"))
    _rescore(recording)


def mark_job_failed(job: str, recording_id: int, error: str) -> None:
    """Called when a job gives up (retries exhausted): its unfinished steps fail visibly."""
    for step in AnalysisStep.objects.filter(recording_id=recording_id, name__in=STEPS_OF_JOB[job]):
        if not step.finished:
            _finish(step, StepState.FAILED, error=error)
    _rescore(Recording.objects.get(pk=recording_id))


def warm_up() -> None:
    """Load the models (after any fork) and compile the kernels, before the first call waits."""
    from core.emotion.classifier import load_classifier
    from core.emotion.model_version import ModelError
    from core.speech.errors import TranscriptionError, TranscriptionUnavailable
    from core.speech.transcribe import get_engine

    compile_kernels()
    try:
        load_classifier(emotion_model_active().path).classify(np.zeros(16_000, dtype=np.float32) + 1e-3)
    except ModelError:
        logger.exception("Emotion model could not be loaded; calls will be scored without it")
    try:
        get_engine("en", models_dir=settings.SPEECH_MODELS_DIR)
    except (TranscriptionError, TranscriptionUnavailable):
        logger.exception("No English transcriber could be loaded; words will be unknown (treated as urgent)")
    model = words_model()  # logs its own failure; the lexicon alone then reads the words
    if model is not None:
        model.predict("warm up")


# -- the work of each step ----------------------------------------------------------------------


def classify_samples(samples: np.ndarray, *, learn: bool = False) -> EmotionPrediction:
    """The active emotion model's reading of 16 kHz samples (the live worker's window, a recording);
    `learn`: a finished call's recording, which a version that adapts also learns its baseline from."""
    from core.emotion.gender import estimate_gender

    model = emotion_model_active()
    prediction = _read_voice(model.path, samples, learn=learn)
    if prediction.gender is None:  # the CNN versions' hint is a model of its own
        prediction = dataclasses.replace(prediction, gender=estimate_gender(samples, model_dir=model.path))
    return prediction


def _read_voice(folder: Path, samples: np.ndarray, *, learn: bool) -> EmotionPrediction:
    """One version's prediction; a version that adapts reads the call against this deployment's
    baseline and, when told, learns from it (best effort: the prediction stands either way)."""
    from core.emotion.classifier import load_classifier
    from core.emotion.encoder_classifier import EncoderClassifier

    classifier = load_classifier(folder)
    if not (isinstance(classifier, EncoderClassifier) and classifier.adapts):
        return classifier.classify(samples)
    prediction, embedding = classifier.read(samples, baseline=voice_baseline(classifier.version))
    if learn:
        try:
            voice_baseline_learn(version=classifier.version, embedding=embedding)
        except Exception:
            logger.exception("The voice baseline of %s could not learn from this call", classifier.version)
    return prediction


def _classify(recording: Recording) -> tuple[EmotionPrediction, str]:
    samples = _samples(recording)
    if samples.size < settings.MIN_AUDIO_SECONDS * audio.TARGET_SAMPLE_RATE:
        # The intake refuses such clips; one stored before that rule gets no verdict either (the
        # model would still answer something), and triage treats the missing voice as urgent.
        raise StepUnavailable(
            f"the recording ({samples.size / audio.TARGET_SAMPLE_RATE:.2f} s) is too short to judge the voice"
        )
    prediction = classify_samples(samples, learn=True)
    return prediction, prediction.model_version


def _shadow(recording: Recording) -> None:
    """The challenger's prediction, kept beside the active one's; best effort, never scored."""
    challenger = emotion_model_challenger_current()
    if challenger is None or ShadowPrediction.objects.filter(recording=recording, version=challenger).exists():
        return
    try:
        prediction = _read_voice(emotion_model_folder(challenger), _samples(recording), learn=True)
        ShadowPrediction.objects.create(recording=recording, version=challenger, result=prediction.to_dict())
    except Exception:
        logger.exception("Challenger %s failed on recording %s", challenger, recording.pk)


def _transcribe(recording: Recording) -> tuple[Transcript, str]:
    from core.speech.errors import TranscriptionUnavailable
    from core.speech.transcribe import transcribe_file

    try:
        # The transcriber streams a file by name: a local copy of the stored audio (another machine's
        # worker has no path to the intake's file; see calls.stored_audio).
        with local_copy(recording.normalised) as path:
            transcript = transcribe_file(
                path, language=recording.case.language, models_dir=settings.SPEECH_MODELS_DIR,
                progress=_progress_reporter(recording, StepName.TRANSCRIPTION),
            )
    except TranscriptionUnavailable as exc:
        raise StepUnavailable(str(exc)) from exc
    return transcript, f"{transcript.engine}:{transcript.model}"


PROGRESS_EVERY_S = 2.0  # at most one progress notice per step in this many seconds


def _progress_reporter(recording: Recording, name: str) -> Callable[[float], None]:
    """Store a long step's progress and tell the case page, now and then."""
    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_S and fraction < 1.0:
            return
        last[0] = now
        AnalysisStep.objects.filter(recording=recording, name=name).update(progress=round(fraction, 3))
        broadcast.case_changed(recording.case_id, "analysis", step=name, progress=round(fraction, 3))

    return report


def analyse_words(transcript: Transcript, *, model: Any = None) -> TextAnalysis:
    """The lexicon's reading of the words, with the words model's (the active version's unless
    ``model`` is given: the call benchmark scores its tuning calls with models that never saw them)."""
    from core.text.analysis import analyse

    result = analyse(transcript, extra_lexicon_dir=settings.EXTRA_LEXICON_DIR)
    model = model if model is not None else words_model()
    if model is not None and result.known:
        reading = model.predict(result.text)
        result.model = reading.to_dict()
        adopt_model_incident(result, reading)
        shadow = _loaded_words_model(words_model_challenger_folder())
        if shadow is not None and shadow.version != model.version:
            result.shadow_model = shadow.predict(result.text).to_dict()
    return result


def adopt_model_incident(result: TextAnalysis, reading: Any) -> None:
    """Where the lexicon found no word that names an incident (none at all, or only a service such
    as "police"), the words model's guess of the type (and department). A phrase that names the
    incident always wins: it is what the reason quotes. Chosen on the call benchmark's tuning part,
    cross-validated by script: on Whisper base's transcripts of telephone calls the lexicon alone typed
    41 % of emergencies, the model taking over only where the lexicon found nothing at all (and at
    least 40 % sure) 45 %, this rule 48 % (docs/models.md, "The words")."""
    from core.text.lexicon import matcher_for

    if not reading.incident_type or any(f.names_incident for f in result.findings):
        return
    lexicon = matcher_for(settings.EXTRA_LEXICON_DIR).lexicon
    result.incident_type = reading.incident_type
    result.department = lexicon.departments.get(reading.incident_type, lexicon.default_department)


_words_model: dict[str, Any] = {}


def words_model() -> Any:
    """The words model in use (the version an admin promoted last, else WORDS_MODEL_DIR), loaded once
    per folder; None when there is none or it cannot be read (then the lexicon alone reads the words,
    and the log says why)."""
    return _loaded_words_model(words_model_active_folder())


def _loaded_words_model(folder: str) -> Any:
    if not folder:
        return None
    if folder not in _words_model:
        from core.text.words_model import load_words_model

        try:
            _words_model[folder] = load_words_model(Path(folder))
        except (OSError, ValueError, KeyError) as exc:
            logger.error("Words model %s could not be loaded (%s): the lexicon alone reads the words", folder, exc)
            _words_model[folder] = None
    return _words_model[folder]


def _samples(recording: Recording) -> np.ndarray:
    return stored_samples(recording.normalised)


# -- step bookkeeping ---------------------------------------------------------------------------


def _run_step(
    recording: Recording, name: str, contract: type[ResultT], work: Callable[[], tuple[ResultT, str]]
) -> ResultT | None:
    """Run one step unless it is already done; returns its result, or None if it did not succeed."""
    step = AnalysisStep.objects.get_or_create(recording=recording, name=name)[0]
    if step.state == StepState.DONE:
        return contract.from_dict(step.result)
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


def _finish(step: AnalysisStep, state: str, *, result: StepResult | None = None, version: str = "",
            error: str = "", seconds: float | None = None) -> None:
    step.state = state
    step.result = result.to_dict() if result is not None else {}
    step.model_version = version[:128]
    if step.name == StepName.EMOTION and version:
        step.emotion_model = EmotionModelVersion.objects.filter(name=version).first()
    step.error = error
    step.seconds = seconds
    step.finished_at = timezone.now()
    step.save(update_fields=["state", "result", "model_version", "emotion_model", "error", "seconds", "finished_at"])
    case_id = step.recording.case_id
    transaction.on_commit(lambda: broadcast.case_changed(case_id, "analysis", step=step.name, state=state))


def _finish_without(recording: Recording, name: str, why: str) -> None:
    step = AnalysisStep.objects.get_or_create(recording=recording, name=name)[0]
    if not step.finished:
        _finish(step, StepState.UNAVAILABLE, error=why)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _rescore(recording: Recording) -> None:
    with transaction.atomic():
        case_rescore(case_id=recording.case_id)
