"""Offline speech-to-text with one small engine interface: plain Python, no Django.

Two engines, both fully offline:

* ``vosk`` — the production engine; needs an unpacked Vosk model per language in the models
  folder (see ``core.speech.vosk_models``). Audio is fed in half-second chunks to a recogniser with
  word output, so memory does not grow with the length of the call.
* ``pocketsphinx`` — the embedded default and fallback: the PyPI wheel carries an en-US model,
  so a fresh install transcribes English with no download. Long audio is cut at pauses into
  utterances of at most ``MAX_UTTERANCE_S`` seconds, each decoded on its own.

The engine is chosen per language: the best installed one wins (Vosk over PocketSphinx). With
no engine for a language, ``transcribe`` raises ``TranscriptionUnavailable`` whose message is
"transcription unavailable for <language>"; callers must then treat the words as unknown.
Loaded models are cached per process and reused.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import numpy as np

from core.speech import vosk_models
from core.speech.transcript import Transcript, Word

SAMPLE_RATE = 16_000
ENGINES = ("vosk", "pocketsphinx")
MAX_UTTERANCE_S = 20.0  # PocketSphinx: longest stretch decoded as one utterance
_CHUNK_S = 0.5  # Vosk: audio fed per AcceptWaveform call


class TranscriptionUnavailable(RuntimeError):
    """No engine can transcribe this language here; the words are unknown, not harmless."""

    def __init__(self, language: str, detail: str | None = None):
        self.language = language
        message = f"transcription unavailable for {language}"
        super().__init__(f"{message} ({detail})" if detail else message)


class TranscriptionError(RuntimeError):
    """An engine that exists failed on this audio or could not load its model."""


def _to_pcm16(samples: np.ndarray) -> np.ndarray:
    data = np.asarray(samples)
    if data.dtype == np.int16:
        return data
    return (np.clip(data.astype(np.float32), -1.0, 1.0) * 32767.0).astype(np.int16)


def _check_audio(samples: np.ndarray, sample_rate: int) -> np.ndarray:
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
    if data.dtype != np.int16 and not np.all(np.isfinite(data)):
        raise TranscriptionError("audio contains NaN or infinite samples")
    return data


# ------------------------------------------------------------------------------ Vosk results


def words_from_vosk_result(result: str | dict[str, Any]) -> list[Word]:
    """Words from one Vosk result in its documented format (recogniser with SetWords(True)):

    ``{"result": [{"conf": 1.0, "end": 1.11, "start": 0.87, "word": "what"}, ...],
    "text": "what ..."}``; a result with only ``text`` (or a ``partial``) gives no words.
    """
    data = json.loads(result) if isinstance(result, (str, bytes)) else result
    if not isinstance(data, dict):
        raise TranscriptionError(f"unexpected Vosk result: {data!r:.80}")
    words = []
    for item in data.get("result") or []:
        try:
            words.append(
                Word(
                    word=str(item["word"]),
                    start=round(float(item["start"]), 3),
                    end=round(float(item["end"]), 3),
                    confidence=round(min(1.0, max(0.0, float(item.get("conf", 1.0)))), 4),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TranscriptionError(f"unexpected word in Vosk result: {item!r:.80}") from exc
    return words


def collect_vosk_results(results: Iterable[str | dict[str, Any]]) -> tuple[str, list[Word]]:
    """Join a stream of Vosk results into text and words, one result at a time."""
    words: list[Word] = []
    texts: list[str] = []
    for result in results:
        data = json.loads(result) if isinstance(result, (str, bytes)) else result
        got = words_from_vosk_result(data)
        if got:
            words.extend(got)
            texts.append(" ".join(w.word for w in got))
        elif isinstance(data, dict) and data.get("text"):
            texts.append(str(data["text"]).strip())
    return " ".join(t for t in texts if t), words


# ----------------------------------------------------------------------------------- engines


class Engine:
    """One loaded engine for one language: ``run(samples) -> (text, words)``; samples are
    16 kHz mono, float32 in [-1, 1] or int16."""

    name = ""
    model = ""

    def run(self, pcm: np.ndarray) -> tuple[str, list[Word]]:  # pragma: no cover - interface
        raise NotImplementedError


class VoskEngine(Engine):
    name = "vosk"

    def __init__(self, model_dir: Path):
        try:
            import vosk
        except ImportError as exc:  # pragma: no cover - vosk is a requirement
            raise TranscriptionError("the vosk package is not installed") from exc
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model = model_dir.name
        try:
            self._model = vosk.Model(str(model_dir))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise TranscriptionError(f"Vosk could not load model {model_dir.name}: {exc}") from exc

    def results(self, pcm: np.ndarray) -> Iterable[str]:
        rec = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
        rec.SetWords(True)
        step = int(_CHUNK_S * SAMPLE_RATE)
        for begin in range(0, len(pcm), step):
            if rec.AcceptWaveform(_to_pcm16(pcm[begin : begin + step]).tobytes()):
                yield rec.Result()
        yield rec.FinalResult()

    def run(self, pcm: np.ndarray) -> tuple[str, list[Word]]:
        return collect_vosk_results(self.results(pcm))


_FILLERS = {"<s>", "</s>", "<sil>", "[noise]", "[laughter]", "[breath]", "[cough]", "[um]",
            "[uh]", "+spn+", "+nsn+", "<unk>"}


def split_at_pauses(pcm: np.ndarray, max_seconds: float = MAX_UTTERANCE_S) -> list[tuple[int, int]]:
    """(start, end) sample ranges of at most `max_seconds`, cut at the quietest 20 ms frame of
    the last quarter of each range so that words are rarely split."""
    limit = int(max_seconds * SAMPLE_RATE)
    frame = SAMPLE_RATE // 50
    ranges = []
    begin = 0
    n = len(pcm)
    while n - begin > limit:
        window_start = begin + limit * 3 // 4
        window = pcm[window_start : begin + limit].astype(np.float32)
        usable = window[: len(window) // frame * frame].reshape(-1, frame)
        quietest = int(np.argmin(np.mean(usable * usable, axis=1)))
        cut = window_start + quietest * frame + frame // 2
        ranges.append((begin, cut))
        begin = cut
    ranges.append((begin, n))
    return ranges


class PocketSphinxEngine(Engine):
    name = "pocketsphinx"

    def __init__(self) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover - pocketsphinx is a requirement
            raise TranscriptionError("the pocketsphinx package is not installed") from exc
        try:
            self._decoder = pocketsphinx.Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        except Exception as exc:
            raise TranscriptionError(f"PocketSphinx could not load its model: {exc}") from exc
        self._frate = int(self._decoder.config["frate"] or 100)
        self.model = f"pocketsphinx-{_ps_version()}/en-us"
        self._lock = threading.Lock()

    def run(self, pcm: np.ndarray) -> tuple[str, list[Word]]:
        words: list[Word] = []
        with self._lock:  # one decoder per process; decoding is serialised
            for begin, end in split_at_pauses(pcm):
                offset = begin / SAMPLE_RATE
                self._decoder.start_utt()
                step = SAMPLE_RATE  # feed one second at a time
                for pos in range(begin, end, step):
                    self._decoder.process_raw(_to_pcm16(pcm[pos : min(pos + step, end)]).tobytes())
                self._decoder.end_utt()
                for seg in self._decoder.seg():
                    token = seg.word
                    if token.lower() in _FILLERS or token.startswith(("[", "+", "<")):
                        continue
                    if token.endswith(")") and "(" in token:  # pronunciation variant: the(2)
                        token = token[: token.rindex("(")]
                    words.append(
                        Word(
                            word=token,
                            start=round(offset + seg.start_frame / self._frate, 3),
                            end=round(offset + (seg.end_frame + 1) / self._frate, 3),
                            confidence=round(min(1.0, max(0.0, float(seg.prob))), 4),
                        )
                    )
        return " ".join(w.word for w in words), words


def _ps_version() -> str:
    try:
        from importlib.metadata import version

        return version("pocketsphinx")
    except Exception:  # pragma: no cover
        return "unknown"


# ------------------------------------------------------------------------ choice and caching

_cache: dict[tuple[str, ...], Engine] = {}
_cache_lock = threading.Lock()


def _pocketsphinx_available() -> bool:
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
    engines = []
    if vosk_models.best_model(language, models_dir) is not None:
        engines.append("vosk")
    if language in ("en", "en-IN") and _pocketsphinx_available():
        engines.append("pocketsphinx")
    return engines


def get_engine(language: str, *, models_dir: str | Path | None = None,
               engine: str | None = None) -> Engine:
    """The loaded engine for `language` (best installed one unless `engine` names one)."""
    try:
        language = vosk_models.normalise_language(language)
    except ValueError:
        raise TranscriptionUnavailable(language, "unsupported language") from None
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    engines = available_engines(language, models_dir)
    if engine is not None:
        if engine not in engines:
            raise TranscriptionUnavailable(
                language,
                "no Vosk model for this language is installed" if engine == "vosk"
                else f"{engine} has no model for this language",
            )
        candidates = [engine]
    elif engines:
        candidates = engines  # best first; a model that fails to load falls back to the next
    else:
        raise TranscriptionUnavailable(language)
    errors = []
    for chosen in candidates:
        try:
            return _load(chosen, language, models_dir)
        except TranscriptionError as exc:
            errors.append(str(exc))
    raise TranscriptionError("; ".join(errors))


def _load(chosen: str, language: str, models_dir: str | Path | None) -> Engine:
    info = None
    if chosen == "vosk":
        info = vosk_models.best_model(language, models_dir)
        # best_model() is not None here: "vosk" is only chosen when a model is installed.
        key: tuple[str, ...] = ("vosk", str(cast(vosk_models.ModelInfo, info).path.resolve()))
    else:
        key = ("pocketsphinx",)
    with _cache_lock:
        loaded = _cache.get(key)
        if loaded is None:
            loaded = VoskEngine(info.path) if info is not None else PocketSphinxEngine()
            _cache[key] = loaded
    return loaded


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def transcribe(
    samples: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    *,
    language: str = "en",
    models_dir: str | Path | None = None,
    engine: str | None = None,
) -> Transcript:
    """Transcribe 16 kHz mono audio (float32 in [-1, 1] or int16).

    Raises TranscriptionUnavailable when no engine serves `language` (or the named `engine` is
    not installed for it), TranscriptionError for unusable audio or a failing engine.
    """
    data = _check_audio(samples, sample_rate)
    loaded = get_engine(language, models_dir=models_dir, engine=engine)
    pcm = data  # converted to 16-bit chunk by chunk, so no second copy of a long call
    started = time.perf_counter()
    try:
        text, words = loaded.run(pcm)
    except (TranscriptionError, TranscriptionUnavailable):
        raise
    except Exception as exc:
        raise TranscriptionError(f"{loaded.name} failed: {exc}") from exc
    elapsed = time.perf_counter() - started
    duration = len(pcm) / SAMPLE_RATE
    return Transcript(
        text=text,
        words=words,
        language=vosk_models.normalise_language(language),
        engine=loaded.name,
        model=loaded.model,
        seconds=round(elapsed, 3),
        real_time_factor=round(elapsed / duration, 4) if duration else 0.0,
        audio_seconds=round(duration, 3),
    )
