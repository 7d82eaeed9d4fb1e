"""Words while the caller is still speaking: Whisper run again and again over a growing buffer, with
a commit policy so that the words shown do not change under the operator's eyes.

The policy is LocalAgreement-2 (Macháček et al., "Turning Whisper into Real-Time Transcription
System", 2023; ÚFAL's whisper_streaming): a word is committed once two successive passes over the
buffer agree on it and on every word before it. Committed words are never taken back; the rest is
shown as tentative. Around it, the guards a phone line needs:

- silence is not transcribed: Silero VAD (shipped inside faster-whisper's wheel) must find speech in
  the part of the buffer not yet committed, else no pass runs (Whisper invents words on silence),
  unless the last pass left tentative words there (the VAD misses a short last word before a pause);
- the engine's own guards (unlikely segments dropped, loops cut back) apply to every pass;
- a word that keeps changing from pass to pass (a voice Whisper finds hard) would wait for the
  hang-up, and so would the last words before a pause: once a pass has heard ``settle_seconds`` of audio after it, and the pass before heard it
  too, the latest pass's reading is committed (it had the most context), so committed words trail
  speech by a bounded time;
- a word is never committed twice: only words that start after the last committed one count, and
  a pass that repeats the committed text's last words has them removed;
- the buffer is bounded: once it is longer than ``trim_seconds`` it is cut in the latest pause after
  a committed word (the committed text before the cut goes to Whisper as its prompt instead), and a buffer with
  nothing committed is cut at ``max_buffer_seconds`` whatever it held, its tentative words committed.

Pure: no Django; the engine is any callable from (16 kHz float samples, prompt) to timed words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.speech.transcript import Word

SAMPLE_RATE = 16_000
Transcribe = Callable[[np.ndarray, str | None], list[Word]]
SpeechFinder = Callable[[np.ndarray], bool]
PROMPT_CHARACTERS = 200  # of committed text given to Whisper as the context of a trimmed buffer
REPEAT_CHECK = 5  # up to this many words at the start of a pass compared with the committed tail
PAUSE_SECONDS = 0.2  # the buffer is cut only in a gap at least this long between words
LOOP_MIN_WORDS = 3  # a phrase this long said twice in a row within one pass is taken for a decoder loop
TRIM_SECONDS = 8.0  # a buffer longer than this is cut at a pause after a committed word
SILENCE_KEEP_SECONDS = 3.0  # of audio the VAD called silence kept after the last word: it can miss a quiet voice


def _key(word: Word) -> str:
    return re.sub(r"[^\w']", "", word.word.lower())


@dataclass(frozen=True)
class StreamUpdate:
    committed: list[Word] = field(default_factory=list)  # newly committed, in order
    tentative: list[Word] = field(default_factory=list)  # the rest of the latest pass
    decoded: bool = False  # whether Whisper ran (False: not enough new audio, or no speech)


def silero_speech_finder(*, threshold: float = 0.5, min_speech_ms: int = 200) -> SpeechFinder:
    """True when Silero VAD finds at least ``min_speech_ms`` of speech in the samples."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_speech_duration_ms=min_speech_ms)

    def has_speech(samples: np.ndarray) -> bool:
        return bool(samples.size) and bool(get_speech_timestamps(samples.astype(np.float32), options))

    return has_speech


class LocalAgreement:
    """One call's streaming transcription. Feed it audio with ``insert``; call ``step`` about once a
    second; ``finish`` at hang-up. All times are seconds from the start of the call."""

    def __init__(self, transcribe: Transcribe, *, has_speech: SpeechFinder | None = None,
                 min_new_seconds: float = 0.8, trim_seconds: float = TRIM_SECONDS, max_buffer_seconds: float = 20.0,
                 start_seconds: float = 0.0, silence_keep_seconds: float = SILENCE_KEEP_SECONDS,
                 settle_seconds: float | None = None) -> None:
        self.transcribe = transcribe
        self.has_speech = has_speech
        self.min_new_seconds = min_new_seconds
        self.trim_seconds = trim_seconds
        self.max_buffer_seconds = max_buffer_seconds
        self.silence_keep_seconds = silence_keep_seconds
        self.settle_seconds = settle_seconds  # None: only words two passes agree on are committed
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_start = start_seconds  # the call's time at buffer[0]
        self.committed: list[Word] = []
        self.previous: list[Word] = []  # the last pass's uncommitted words
        self._samples_at_last_pass = 0
        self._last_pass_until = start_seconds  # the call's time up to which the last Whisper pass heard

    @property
    def heard_seconds(self) -> float:
        return self.buffer_start + self.buffer.size / SAMPLE_RATE

    @property
    def decoded_until(self) -> float:
        """The call's time up to which the latest pass heard the audio (the words trail the audio by
        ``heard_seconds - decoded_until`` when passes fall behind)."""
        return self.buffer_start + self._samples_at_last_pass / SAMPLE_RATE

    @property
    def committed_through(self) -> float:
        """The call's time up to which every word heard is committed: the start of the oldest tentative
        word, else as far as the latest pass heard. What the words shown trail speech by is
        ``heard_seconds - committed_through``: when passes fall behind they come further apart and
        disagree more, so words wait for agreement longer than the audio waits for a pass."""
        return self.previous[0].start if self.previous else self.decoded_until

    @property
    def committed_until(self) -> float:
        return self.committed[-1].end if self.committed else self.buffer_start

    def insert(self, samples: np.ndarray) -> None:
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, dtype=np.float32)])

    def step(self) -> StreamUpdate:
        if (self.buffer.size - self._samples_at_last_pass) / SAMPLE_RATE < self.min_new_seconds:
            return StreamUpdate(tentative=list(self.previous))
        self._samples_at_last_pass = self.buffer.size
        pending = self.buffer[max(0, int((self.committed_until - self.buffer_start) * SAMPLE_RATE)):]
        # With tentative words a pass always runs: they are speech whatever the VAD says of it (it misses
        # a short last word before a pause), and only a pass can settle them before the caller speaks again.
        if self.has_speech is not None and not self.previous and not self.has_speech(pending):
            self._trim_silence()
            return StreamUpdate()
        words = self._new_words(self._pass())
        if words:
            agreed = self._agreed_prefix(self.previous, words)
        else:
            # This pass dropped the last one's tentative words (a segment judged unlikely on this buffer,
            # a flicker) rather than heard silence there: they stay tentative and are committed once
            # settled, not lost after a pause the VAD misses.
            agreed, words = [], self.previous
        agreed += self._settled(words[len(agreed):], heard_before_until=self._last_pass_until)
        self._last_pass_until = self.heard_seconds
        self.committed += agreed
        self.previous = words[len(agreed):]
        self._trim()
        return StreamUpdate(committed=agreed, tentative=list(self.previous), decoded=True)

    def finish(self) -> StreamUpdate:
        """The call ended: one last pass, and everything it heard committed."""
        self._samples_at_last_pass = 0
        pending = self.buffer[max(0, int((self.committed_until - self.buffer_start) * SAMPLE_RATE)):]
        heard_speech = self.has_speech is None or bool(self.previous) or self.has_speech(pending)
        if self.buffer.size == 0 or not heard_speech:
            words: list[Word] = []
        else:
            words = self._new_words(self._pass()) or self.previous  # the last pass may drop what it heard
        self.committed += words
        self.previous = []
        self._samples_at_last_pass = self.buffer.size  # all of it heard: nothing trails any more
        return StreamUpdate(committed=words, decoded=bool(words))

    # -- inside ----------------------------------------------------------------------------------

    @staticmethod
    def _cut_at_repeat(words: list[Word]) -> list[Word]:
        """A pass's words up to where a phrase of three or more words comes again straight after
        itself, or one of two words a third time: on a buffer that ends mid-speech Whisper's decoder
        tends to loop ("my father has collapsed my father has collapsed ...", "sir please sir please
        sir please"); a caller who repeats a whole phrase at once is rare, the first time is kept,
        and the final analysis at hang-up hears it anyway."""
        keys = [_key(w) for w in words]
        for end in range(1, len(keys) + 1):
            for size in range(2, end // 2 + 1):
                times = 2 if size >= LOOP_MIN_WORDS else 3
                phrase = keys[end - size:end]
                if end >= times * size and all(keys[end - k * size:end - (k - 1) * size] == phrase
                                                for k in range(2, times + 1)):
                    return words[:end - (times - 1) * size]
        return words

    def _pass(self) -> list[Word]:
        # Only what was said before the buffer (whisper_streaming's rule): words that are still in the
        # buffer, given as the prompt too, make Whisper skip or garble them as already said.
        before = [w.word for w in self.committed if w.end <= self.buffer_start + 0.05]
        prompt = " ".join(before)[-PROMPT_CHARACTERS:] or None
        heard = self._cut_at_repeat(self.transcribe(self.buffer, prompt))
        return [Word(word=w.word, start=round(w.start + self.buffer_start, 3), end=round(w.end + self.buffer_start, 3),
                     confidence=w.confidence) for w in heard]

    def _new_words(self, words: list[Word]) -> list[Word]:
        """The pass's words after the committed ones (Whisper's times wobble by a tenth of a second),
        without a repeat of the committed text's last words."""
        fresh = [w for w in words if w.start >= self.committed_until - 0.1]
        if self.committed and fresh:
            tail = [_key(w) for w in self.committed[-REPEAT_CHECK:]]
            for size in range(min(REPEAT_CHECK, len(fresh), len(tail)), 0, -1):
                if [_key(w) for w in fresh[:size]] == tail[-size:]:
                    fresh = fresh[size:]
                    break
        return fresh

    @staticmethod
    def _agreed_prefix(previous: list[Word], current: list[Word]) -> list[Word]:
        agreed: list[Word] = []
        for before, now in zip(previous, current, strict=False):
            if _key(before) != _key(now) or not _key(now):
                break
            agreed.append(now)
        return agreed

    def _settled(self, words: list[Word], *, heard_before_until: float) -> list[Word]:
        """The leading words past the agreed ones that this pass heard ``settle_seconds`` of audio after,
        and the pass before heard to their end: whatever the two passes made of them, later passes
        are unlikely to do better, and waiting longer only delays the words."""
        if self.settle_seconds is None:
            return []
        until = min(self.heard_seconds - self.settle_seconds, heard_before_until)
        settled: list[Word] = []
        for word in words:
            if word.end > until or not _key(word):
                break
            settled.append(word)
        return settled

    def _cut(self, at_seconds: float) -> None:
        cut = int((at_seconds - self.buffer_start) * SAMPLE_RATE)
        if cut <= 0:
            return
        self.buffer = self.buffer[cut:]
        self.buffer_start = round(self.buffer_start + cut / SAMPLE_RATE, 3)
        self._samples_at_last_pass = max(0, self._samples_at_last_pass - cut)

    def _trim(self) -> None:
        buffered = self.buffer.size / SAMPLE_RATE
        if buffered > self.trim_seconds:
            pause = self._latest_committed_pause()
            if pause is not None:
                self._cut(pause)
                return
        if buffered > self.max_buffer_seconds:
            # Nothing agreed for this long: take the latest pass as it is rather than grow without end.
            self.committed += self.previous
            self.previous = []
            self._cut(self.committed_until if self.committed else self.heard_seconds - 1.0)

    def _latest_committed_pause(self) -> float | None:
        """The middle of the latest pause after a committed word still in the buffer, never inside
        a word (a buffer that starts mid-word is misheard from there on). Any committed word's pause
        will do, not only the last one's: passes rarely end exactly at a pause, and a buffer cut only
        there could grow to ``max_buffer_seconds`` on a caller who keeps talking."""
        in_buffer = [w for w in self.committed if w.end > self.buffer_start]
        if not in_buffer:
            return None
        # Only a pause with a heard word on both sides: after the last committed word with no tentative
        # word yet, the audio may already hold the start of a word no pass has written out.
        following = [w.start for w in in_buffer[1:]] + [self.previous[0].start if self.previous else None]
        for word, next_start in zip(reversed(in_buffer), reversed(following), strict=True):
            if next_start is None:
                continue
            if next_start - word.end >= PAUSE_SECONDS:
                return word.end + min(next_start - word.end, 1.0) / 2
        return None

    def _trim_silence(self) -> None:
        """The VAD heard only silence since the last committed word: keep its last seconds all the same
        (a word may be starting, and a VAD can miss a quiet voice for a while), the rest goes."""
        self._cut(max(self.committed_until, self.heard_seconds - self.silence_keep_seconds))
