"""The live worker: follows every call on the line, reads its audio as the ingress writes it to disk,
and turns it into evidence while the caller is still speaking.

One asyncio task per call, many calls per process. A call stays with one process: with several
processes (``manage.py live_worker --index I --of N``) each takes the streams whose id is I mod N.
Per call, about twice a second (LIVE_STEP_SECONDS):

- the audio that arrived is read from the stream's file (nothing is dropped: what has not been
  transcribed yet is still on disk, and the next pass takes it all);
- a Whisper pass over the call's buffer, committed by LocalAgreement (core.speech.streaming), a word
  the passes keep reading differently once settled (LIVE_SETTLE_SECONDS);
- the voice over the last seconds, every LIVE_VOICE_HOP_SECONDS, on its own thread beside the pass;
- when the committed words or the voice changed, the words are read (lexicon and words model, as
  for a recording), kept as a LiveReading and the case re-scored (at most every LIVE_RESCORE_SECONDS):
  the queue re-ranks, and a call that turns critical reaches every operator's page at once;
- tentative words only go to the case page.

Whisper passes of all calls share LIVE_WHISPER_PASSES threads (one buffer each at a time, on one
core each), the voice another. When there are more calls than the CPU follows, each pass simply covers more new audio:
the words fall behind ("words 6 s behind" on the case page), the voice keeps its own pace, and the
full analysis at hang-up catches up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from channels.db import database_sync_to_async
from django.conf import settings

from analysis import pipeline
from analysis.services import case_rescore, live_reading_record
from calls import broadcast
from core.emotion.prediction import EmotionPrediction
from core.speech.streaming import SAMPLE_RATE, LocalAgreement, StreamUpdate, Transcribe, silero_speech_finder
from core.speech.transcript import Transcript

from .models import OPEN_STATES, LiveStream
from .spool import spool_path

logger = logging.getLogger(__name__)
Classify = Callable[[np.ndarray], EmotionPrediction]
TENTATIVE_CHARACTERS = 500


def whisper_transcribe() -> Transcribe:
    """Whisper tiny.en for live passes: its own model instance, greedy unless LIVE_WHISPER_BEAM says,
    with LIVE_WHISPER_PASSES passes at once on one core each. On tiny.en a second core speeds one
    pass up hardly at all (0.18 s vs 0.17 s for 6 s of audio) but two passes side by side make
    1.5 times as many passes a second (benchmarks/live_calls.py)."""
    from core.speech.whisper import DecodeSettings, WhisperEngine

    engine = WhisperEngine(settings=DecodeSettings(beam_size=settings.LIVE_WHISPER_BEAM), short_windows=True,
                           threads=1, workers=settings.LIVE_WHISPER_PASSES, model_name=settings.LIVE_WHISPER_MODEL)
    return lambda samples, prompt: engine.run_with_prompt(samples, prompt)[1]


@dataclass
class CallFollower:
    """One call as the worker follows it."""

    stream_id: int
    case_id: int
    audio_path: Any
    sample_rate: int
    agreement: LocalAgreement
    read_bytes: int = 0
    voice: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    voice_at: float = 0.0  # the call's time of the last voice reading
    emotion: EmotionPrediction | None = None
    recorded_at: float = 0.0  # monotonic time of the last LiveReading
    dirty: bool = False  # evidence changed since the last LiveReading
    _resampler: Any = None

    def unread_seconds(self) -> float:
        """Audio the ingress has written that this follower has not read yet (it arrived during a pass)."""
        try:
            size = self.audio_path.stat().st_size
        except FileNotFoundError:
            return 0.0
        return max(0, size - self.read_bytes) / 2 / self.sample_rate

    def read_audio(self, *, last: bool = False) -> float:
        """Take in what the ingress wrote since the last read; the seconds of audio added."""
        import soxr

        if self._resampler is None:
            self._resampler = soxr.ResampleStream(self.sample_rate, SAMPLE_RATE, 1, dtype="float32")
        try:
            with self.audio_path.open("rb") as handle:
                handle.seek(self.read_bytes)
                data = handle.read()
        except FileNotFoundError:
            data = b""
        data = data[: len(data) // 2 * 2]  # whole 16-bit samples only; the rest comes next time
        self.read_bytes += len(data)
        pcm = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        samples = self._resampler.resample_chunk(pcm, last=last) if self.sample_rate != SAMPLE_RATE else pcm
        self.agreement.insert(samples)
        window = int(settings.LIVE_VOICE_WINDOW_SECONDS * SAMPLE_RATE)
        self.voice = np.concatenate([self.voice, samples])[-window:]
        return samples.size / SAMPLE_RATE


class LiveWorker:
    def __init__(self, *, index: int = 0, of: int = 1, transcribe: Transcribe | None = None,
                 classify: Classify | None = None, has_speech: Callable[[np.ndarray], bool] | None = None) -> None:
        self.index, self.of = index, of
        self.transcribe = transcribe or whisper_transcribe()
        self.classify = classify or pipeline.classify_samples
        self.has_speech = has_speech if has_speech is not None else silero_speech_finder()
        self.words_pool = ThreadPoolExecutor(settings.LIVE_WHISPER_PASSES, thread_name_prefix="live-words")
        self.voice_pool = ThreadPoolExecutor(1, thread_name_prefix="live-voice")
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def warm_up(self) -> None:
        """A pass on each of the Whisper replicas, the speech finder and a voice reading, on quiet
        noise, before the first call: a fresh process's first run of each model is several times
        slower than the next (one live call's first words trailed by 6 s after a worker's start
        against 1.5 s once warm, benchmarks/live_calls.py), and a restarted worker would make its
        first callers pay for it."""
        noise = np.random.default_rng(0).normal(0.0, 1e-3, int(2.0 * SAMPLE_RATE)).astype(np.float32)
        list(self.words_pool.map(lambda _: self.transcribe(noise, None), range(settings.LIVE_WHISPER_PASSES)))
        self.has_speech(noise)
        try:
            self.voice_pool.submit(self.classify, noise).result()
        except Exception:  # no active voice model yet, say: the calls' readings report it when they come
            logger.warning("The live worker could not warm up the voice model", exc_info=True)

    async def run(self, *, stop: asyncio.Event, poll_seconds: float = 0.5) -> None:
        """Follow calls until ``stop`` is set; then finish following the ones on the line."""
        try:
            while not stop.is_set():
                await self.take_new_calls()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
                except TimeoutError:
                    pass
        finally:
            for task in self.tasks.values():
                task.cancel()
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
            self.words_pool.shutdown(wait=False, cancel_futures=True)
            self.voice_pool.shutdown(wait=False, cancel_futures=True)

    async def take_new_calls(self) -> None:
        for stream in await database_sync_to_async(self._open_streams)():
            if stream.pk not in self.tasks:
                follower = CallFollower(
                    stream_id=stream.pk, case_id=stream.case_id, audio_path=spool_path(stream.audio_name),
                    sample_rate=stream.sample_rate, agreement=LocalAgreement(self.transcribe, has_speech=self.has_speech,
                                              min_new_seconds=0.8 * settings.LIVE_STEP_SECONDS,
                                              settle_seconds=settings.LIVE_SETTLE_SECONDS),
                )
                task = asyncio.create_task(self.follow(follower), name=f"live call {stream.call_id}")
                self.tasks[stream.pk] = task
                task.add_done_callback(partial(self._forget, stream.pk))

    def _open_streams(self) -> list[LiveStream]:
        streams = LiveStream.objects.filter(state__in=OPEN_STATES).exclude(audio_name="").order_by("pk")
        return [s for s in streams if s.pk % self.of == self.index]

    def _forget(self, pk: int, task: asyncio.Task[None]) -> None:
        self.tasks.pop(pk, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Following live stream %s failed", pk, exc_info=task.exception())

    async def follow(self, call: CallFollower) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = time.monotonic()
            still_open = await database_sync_to_async(_is_open)(call.stream_id)
            call.read_audio(last=not still_open)
            if not still_open:  # hung up or cut off: everything it wrote is on disk
                update = await loop.run_in_executor(self.words_pool, call.agreement.finish)
                await self.read_voice(call)
                await self.report(call, update, final=True)
                return
            # the voice on its own thread while Whisper makes its pass: the words do not wait for it
            voice = (asyncio.ensure_future(self.read_voice(call))
                     if call.agreement.heard_seconds - call.voice_at >= settings.LIVE_VOICE_HOP_SECONDS else None)
            update = await loop.run_in_executor(self.words_pool, call.agreement.step)
            voice_changed = await voice if voice is not None else False
            call.dirty = call.dirty or bool(update.committed) or voice_changed
            await self.report(call, update)
            await asyncio.sleep(max(0.05, settings.LIVE_STEP_SECONDS - (time.monotonic() - started)))

    async def read_voice(self, call: CallFollower) -> bool:
        if call.voice.size < settings.MIN_AUDIO_SECONDS * SAMPLE_RATE:
            return False
        call.voice_at = call.agreement.heard_seconds
        try:
            call.emotion = await asyncio.get_running_loop().run_in_executor(self.voice_pool, self.classify,
                                                                            call.voice.copy())
        except Exception:  # the words still count; the final analysis reads the voice again
            logger.exception("Live voice reading failed for case %s", call.case_id)
            return False
        return True

    async def report(self, call: CallFollower, update: StreamUpdate, *, final: bool = False) -> None:
        # New words are scored at once (they may be the emergency); a voice-only change waits its turn.
        due = bool(update.committed) or time.monotonic() - call.recorded_at >= settings.LIVE_RESCORE_SECONDS
        if (call.dirty or final) and (due or final):
            call.dirty = False
            call.recorded_at = time.monotonic()
            await database_sync_to_async(self._record)(call, update, final=final)
        elif update.tentative or update.committed:  # the words not settled yet: to the case page only
            tentative = " ".join(w.word for w in update.tentative)[-TENTATIVE_CHARACTERS:]
            await database_sync_to_async(broadcast.send_to_group)(
                broadcast.case_group(call.case_id), "case.changed", case=call.case_id, kind="live_words",
                tentative=tentative)

    def _record(self, call: CallFollower, update: StreamUpdate, *, final: bool = False) -> None:
        agreement = call.agreement
        words = list(agreement.committed)
        text = pipeline.analyse_words(Transcript(text=" ".join(w.word for w in words), words=words,
                                                 audio_seconds=agreement.heard_seconds))
        live_reading_record(
            case_id=call.case_id, heard_seconds=agreement.heard_seconds,
            # what the words trail the audio by: not committed yet (tentative, or not yet in a pass), and not
            # yet even read (it came in while this call waited for its pass)
            behind_seconds=agreement.heard_seconds - agreement.committed_through + call.unread_seconds(), words=words,
            tentative=" ".join(w.word for w in update.tentative), text=text, emotion=call.emotion, final=final,
        )
        case_rescore(case_id=call.case_id)


def _is_open(stream_id: int) -> bool:
    return LiveStream.objects.filter(pk=stream_id, state__in=OPEN_STATES).exists()
