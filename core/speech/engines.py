"""The offline speech engines behind one small interface. Plain Python, no Django.

* ``whisper`` (:mod:`core.speech.whisper`) — Whisper tiny.en, the default for English.
* ``vosk`` — needs an unpacked Vosk model per language in the models folder (see
  :mod:`core.speech.vosk_models`): Indian English and Hindi. Audio is fed in half-second chunks to
  a recogniser with word output.
* ``pocketsphinx`` — the fallback: the PyPI wheel carries an en-US model. Long audio is cut at
  pauses into utterances of at most ``MAX_UTTERANCE_S`` seconds, each decoded on its own.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core.speech.errors import TranscriptionError
from core.speech.transcript import Word

SAMPLE_RATE = 16_000
MAX_UTTERANCE_S = 20.0  # PocketSphinx: longest stretch decoded as one utterance
_CHUNK_S = 0.5  # Vosk: audio fed per AcceptWaveform call


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    data = np.asarray(samples)
    if data.dtype == np.int16:
        return data
    return (np.clip(data.astype(np.float32), -1.0, 1.0) * 32767.0).astype(np.int16)


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


class Engine:
    """One loaded engine for one language: ``run(samples) -> (text, words)``; samples are
    16 kHz mono, float32 in [-1, 1] or int16, at most a chunk of a call (times from its start)."""

    name = ""
    model = ""
    model_checksum = ""  # sha256 of the model's weights, where the engine can tell

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
            if rec.AcceptWaveform(to_pcm16(pcm[begin : begin + step]).tobytes()):
                yield rec.Result()
        yield rec.FinalResult()

    def run(self, pcm: np.ndarray) -> tuple[str, list[Word]]:
        return collect_vosk_results(self.results(pcm))


_FILLERS = {"<s>", "</s>", "<sil>", "[noise]", "[laughter]", "[breath]", "[cough]", "[um]",
            "[uh]", "+spn+", "+nsn+", "<unk>"}


def chunks_at_pauses(blocks: Iterable[np.ndarray], max_seconds: float) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, samples) chunks of at most `max_seconds` from a stream of audio blocks, each
    cut at the quietest 20 ms frame of its last quarter so that words are rarely split. Holds no
    more than one chunk and one block in memory."""
    limit = int(max_seconds * SAMPLE_RATE)
    frame = SAMPLE_RATE // 50
    buffer = np.zeros(0, dtype=np.float32)
    begin = 0
    for block in blocks:
        buffer = np.concatenate([buffer, np.asarray(block)]) if buffer.size else np.asarray(block)
        while buffer.size > limit:
            window = buffer[limit * 3 // 4 : limit].astype(np.float32)
            usable = window[: len(window) // frame * frame].reshape(-1, frame)
            quietest = int(np.argmin(np.mean(usable * usable, axis=1)))
            cut = limit * 3 // 4 + quietest * frame + frame // 2
            yield begin, buffer[:cut]
            begin += cut
            buffer = buffer[cut:]
    if buffer.size:
        yield begin, buffer


def split_at_pauses(pcm: np.ndarray, max_seconds: float = MAX_UTTERANCE_S) -> list[tuple[int, int]]:
    """(start, end) sample ranges of at most `max_seconds` of `pcm`, cut at pauses."""
    return [(start, start + len(chunk)) for start, chunk in chunks_at_pauses([pcm], max_seconds)]


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
                    self._decoder.process_raw(to_pcm16(pcm[pos : min(pos + step, end)]).tobytes())
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
