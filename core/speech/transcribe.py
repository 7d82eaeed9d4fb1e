"""Offline speech-to-text: the engine for a language, and a call transcribed chunk by chunk.

The engine is chosen per language (:data:`ENGINE_ORDER`): the first one installed and loading
wins, and an engine that fails on the audio hands over to the next, the reason kept on the
transcript. With no engine for a language, ``transcribe`` raises ``TranscriptionUnavailable``
("transcription unavailable for <language>"); callers must then treat the words as unknown.
A long call is transcribed in chunks of at most ``CHUNK_S`` seconds, cut at pauses, with progress
reported after each. Loaded models are cached per process and reused. Plain Python, no Django.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import numpy as np

from core.speech import vosk_models
from core.speech.engines import SAMPLE_RATE, Engine, PocketSphinxEngine, VoskEngine, chunks_at_pauses
from core.speech.errors import TranscriptionError, TranscriptionUnavailable
from core.speech.transcript import Transcript, Word

ENGINES = ("whisper", "vosk", "pocketsphinx")
# Best first, per language: Whisper tiny.en for English; an installed Vosk model for Indian
# English (trained on it) and Hindi; PocketSphinx's en-US model as the last resort.
ENGINE_ORDER = {"en": ("whisper", "vosk", "pocketsphinx"), "en-IN": ("vosk", "whisper", "pocketsphinx"),
                "hi": ("vosk",)}
CHUNK_S = 30.0  # the longest stretch of a call handed to an engine at once


def check_audio(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate != SAMPLE_RATE:
        raise TranscriptionError(
            f"audio must be {SAMPLE_RATE} Hz mono (decode it with core.audio first); "
            f"got {sample_rate} Hz"
        )
    data = np.asarray(samples)
    if data.ndim != 1:
        raise TranscriptionError("audio must be mono (one dimension)")
    if data.size == 0:
        raise TranscriptionError("audio is empty")
    # one sum, not np.isfinite(data): that would hold a mask as long as the call (NaN and inf
    # carry through a sum; float32 samples cannot overflow a float64 total)
    if data.dtype != np.int16 and not np.isfinite(data.sum(dtype=np.float64)):
        raise TranscriptionError("audio contains NaN or infinite samples")
    return data



# ------------------------------------------------------------------------ choice and caching

_cache: dict[tuple[str, ...], Engine] = {}
_cache_lock = threading.Lock()


def _installed(engine: str, language: str, models_dir: str | Path | None) -> bool:
    if engine == "vosk":
        return vosk_models.best_model(language, models_dir) is not None
    if engine == "whisper":
        from core.speech.whisper import TRANSCRIBERS, transcriber_choice

        _, find_folder, _ = TRANSCRIBERS[transcriber_choice()]
        return find_folder() is not None
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def available_engines(language: str, models_dir: str | Path | None = None) -> list[str]:
    """Engines that can transcribe `language` here, best first ([] when none can)."""
    try:
        language = vosk_models.normalise_language(language)
    except ValueError:
        return []
    return [e for e in ENGINE_ORDER.get(language, ()) if _installed(e, language, models_dir)]


def _candidates(language: str, models_dir: str | Path | None, engine: str | None) -> list[str]:
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    engines = available_engines(language, models_dir)
    if engine is None:
        if not engines:
            raise TranscriptionUnavailable(language)
        return engines
    if engine not in engines:
        raise TranscriptionUnavailable(
            language,
            "no Vosk model for this language is installed" if engine == "vosk"
            else f"{engine} has no model for this language",
        )
    return [engine]


def get_engine(language: str, *, models_dir: str | Path | None = None, engine: str | None = None) -> Engine:
    """The loaded engine for `language` (best installed one unless `engine` names one)."""
    language = _language(language)
    errors = []
    for chosen in _candidates(language, models_dir, engine):
        try:
            return _load(chosen, language, models_dir)
        except TranscriptionError as exc:
            errors.append(str(exc))
    raise TranscriptionError("; ".join(errors))


def _language(language: str) -> str:
    try:
        return vosk_models.normalise_language(language)
    except ValueError:
        raise TranscriptionUnavailable(language, "unsupported language") from None


def _load(chosen: str, language: str, models_dir: str | Path | None) -> Engine:
    if chosen == "vosk":
        info = cast(vosk_models.ModelInfo, vosk_models.best_model(language, models_dir))
        key: tuple[str, ...] = ("vosk", str(info.path.resolve()))
    else:
        key = (chosen,)
    with _cache_lock:
        loaded = _cache.get(key)
        if loaded is None:
            loaded = _construct(chosen, language, models_dir)
            _cache[key] = loaded
    return loaded


def _construct(chosen: str, language: str, models_dir: str | Path | None) -> Engine:
    if chosen == "vosk":
        return VoskEngine(cast(vosk_models.ModelInfo, vosk_models.best_model(language, models_dir)).path)
    if chosen == "whisper":
        from core.speech.whisper import WhisperEngine

        return WhisperEngine()
    return PocketSphinxEngine()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# ------------------------------------------------------------------------------ transcribing

ChunkSource = Callable[[], Iterator[tuple[int, np.ndarray]]]


def transcribe(
    samples: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    *,
    language: str = "en",
    models_dir: str | Path | None = None,
    engine: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Transcribe 16 kHz mono audio (float32 in [-1, 1] or int16), chunk by chunk.

    Raises TranscriptionUnavailable when no engine serves `language` (or the named `engine` is
    not installed for it), TranscriptionError for unusable audio or when every engine failed.
    """
    data = check_audio(samples, sample_rate)
    return _transcribe_chunks(lambda: chunks_at_pauses([data], CHUNK_S), len(data) / SAMPLE_RATE,
                              language=language, models_dir=models_dir, engine=engine, progress=progress)


def transcribe_file(
    path: str | Path,
    *,
    language: str = "en",
    models_dir: str | Path | None = None,
    engine: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Transcribe a 16 kHz mono file (the normalised copy of a recording), read a block at a time."""
    import soundfile as sf

    info = sf.info(str(path))
    if info.samplerate != SAMPLE_RATE or info.channels != 1:
        raise TranscriptionError(f"{path} is not 16 kHz mono (decode it with core.audio first)")
    if info.frames == 0:
        raise TranscriptionError("audio is empty")

    def blocks() -> Iterator[tuple[int, np.ndarray]]:
        reader = sf.blocks(str(path), blocksize=int(CHUNK_S * SAMPLE_RATE), dtype="float32")
        # soundfile refills one buffer for every block: copy each before the next is read
        return chunks_at_pauses((np.array(b, dtype=np.float32) for b in reader), CHUNK_S)

    return _transcribe_chunks(blocks, info.frames / SAMPLE_RATE, language=language, models_dir=models_dir,
                              engine=engine, progress=progress)


def _transcribe_chunks(chunks: ChunkSource, duration: float, *, language: str, models_dir: str | Path | None,
                       engine: str | None, progress: Callable[[float], None] | None) -> Transcript:
    """Each candidate engine in turn until one transcribes the whole call; why others failed is kept."""
    language = _language(language)
    failures: list[str] = []
    for chosen in _candidates(language, models_dir, engine):
        started = time.perf_counter()
        try:
            loaded = _load(chosen, language, models_dir)
            text, words = _run_chunks(loaded, chunks, duration, progress)
        except (TranscriptionError, TranscriptionUnavailable) as exc:
            failures.append(f"{chosen}: {exc}")
            continue
        except Exception as exc:  # an engine's own error on this audio: try the next engine
            failures.append(f"{chosen} failed: {type(exc).__name__}: {exc}")
            continue
        elapsed = time.perf_counter() - started
        return Transcript(
            text=text, words=words, language=language, engine=loaded.name, model=loaded.model,
            model_checksum=loaded.model_checksum, seconds=round(elapsed, 3),
            real_time_factor=round(elapsed / duration, 4) if duration else 0.0, audio_seconds=round(duration, 3),
            fallback="; ".join(failures),
        )
    raise TranscriptionError("; ".join(failures))


def _run_chunks(loaded: Engine, chunks: ChunkSource, duration: float,
                progress: Callable[[float], None] | None) -> tuple[str, list[Word]]:
    texts: list[str] = []
    words: list[Word] = []
    for first, chunk in chunks():
        offset = first / SAMPLE_RATE
        text, chunk_words = loaded.run(chunk)
        texts.append(text)
        words += [Word(w.word, round(w.start + offset, 3), round(w.end + offset, 3), w.confidence)
                  for w in chunk_words]
        if progress is not None:
            progress(min(1.0, (first + len(chunk)) / SAMPLE_RATE / duration) if duration else 1.0)
    return " ".join(t for t in texts if t), words
