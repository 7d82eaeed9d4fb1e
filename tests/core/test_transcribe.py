"""The transcription core: the real PocketSphinx engine on real recorded speech, the no-engine
path, bad audio, long audio, and Vosk's documented result format."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import jiwer
import numpy as np
import pytest

from benchmarks._measure import PeakRss
from core.audio import AudioError, decode, load
from core.speech import transcribe as T
from core.speech.transcript import Transcript, Word

REPO = Path(__file__).resolve().parents[2]
RAVDESS = Path(os.environ.get("RAVDESS_DIR", REPO.parent / "shared" / "data" / "ravdess"))
SAMPLES = Path(os.environ.get("SPEECH_SAMPLES_DIR",
                              REPO.parent / "shared" / "data" / "speech-samples"))
SENTENCES = {"1": "kids are talking by the door", "2": "dogs are sitting by the door"}

needs_ravdess = pytest.mark.skipif(not (RAVDESS / "metadata.csv").exists(),
                                   reason=f"RAVDESS not found at {RAVDESS} (set RAVDESS_DIR)")


def ravdess_rows(**where):
    with open(RAVDESS / "metadata.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


@pytest.fixture(scope="module")
def neutral_clips():
    rows = [r for r in ravdess_rows(emotion="neutral", repetition="1") if int(r["actor"]) <= 4]
    return [(load(RAVDESS / r["path"]), SENTENCES[r["statement"]]) for r in rows]


@pytest.fixture(autouse=True, scope="module")
def _fresh_engines():
    T.clear_cache()
    yield
    T.clear_cache()


@needs_ravdess
def test_pocketsphinx_transcribes_real_speech(neutral_clips, tmp_path):
    refs, hyps = [], []
    for samples, sentence in neutral_clips:
        t = T.transcribe(samples, language="en", models_dir=tmp_path)
        assert t.engine == "pocketsphinx"
        assert t.model.startswith("pocketsphinx-") and t.model.endswith("/en-us")
        assert t.audio_seconds == pytest.approx(len(samples) / 16000, abs=1e-3)
        assert t.seconds > 0 and t.real_time_factor == pytest.approx(
            t.seconds / t.audio_seconds, rel=0.01)
        assert t.text == " ".join(w.word for w in t.words)
        previous_end = 0.0
        for w in t.words:
            assert 0.0 <= w.start < w.end <= t.audio_seconds + 0.05
            assert w.start >= previous_end - 1e-6
            assert 0.0 <= w.confidence <= 1.0
            assert not w.word.startswith(("<", "[")) and "(" not in w.word
            previous_end = w.end
        refs.append(sentence)
        hyps.append(t.text or "<empty>")
    wer = jiwer.wer(refs, hyps)
    # measured 0.21 on these 8 clips (actors 1-4, neutral, both sentences); the bar leaves room
    assert wer < 0.45, list(zip(refs, hyps, strict=True))


def test_english_speech_sample_mentions_fire(tmp_path):
    path = SAMPLES / "en_fire.wav"
    if not path.exists():
        pytest.skip(f"{path} missing")
    t = T.transcribe(load(path), language="en-IN", models_dir=tmp_path)
    assert t.language == "en-IN" and t.engine == "pocketsphinx"  # the en-IN fallback
    assert t.words, "expected some words from a 3 s spoken sentence"


def test_engine_is_loaded_once_per_process(tmp_path):
    first = T.get_engine("en", models_dir=tmp_path)
    assert T.get_engine("en-IN", models_dir=tmp_path) is first


def test_silence_gives_an_empty_transcript(tmp_path):
    t = T.transcribe(np.zeros(16000 * 2, np.float32), models_dir=tmp_path)
    assert t.words == [] and t.text == ""


def test_int16_input_is_accepted(tmp_path):
    t = T.transcribe(np.zeros(8000, np.int16), models_dir=tmp_path)
    assert t.engine == "pocketsphinx"


# --------------------------------------------------------------------------- no engine


def test_hindi_without_a_vosk_model_is_unavailable(tmp_path):
    assert T.available_engines("hi", models_dir=tmp_path) == []
    with pytest.raises(T.TranscriptionUnavailable) as info:
        T.transcribe(np.zeros(16000, np.float32), language="hi", models_dir=tmp_path)
    assert str(info.value) == "transcription unavailable for hi"
    assert info.value.language == "hi"


def test_unsupported_language_is_unavailable(tmp_path):
    assert T.available_engines("ta", models_dir=tmp_path) == []
    with pytest.raises(T.TranscriptionUnavailable, match="transcription unavailable for ta"):
        T.transcribe(np.zeros(16000, np.float32), language="ta", models_dir=tmp_path)


def test_forced_vosk_without_model_is_unavailable(tmp_path):
    assert T.available_engines("en", models_dir=tmp_path) == ["pocketsphinx"]
    with pytest.raises(T.TranscriptionUnavailable, match="transcription unavailable for en"):
        T.transcribe(np.zeros(16000, np.float32), engine="vosk", models_dir=tmp_path)
    with pytest.raises(ValueError):
        T.transcribe(np.zeros(16000, np.float32), engine="whisper", models_dir=tmp_path)


def _broken_model(root: Path, name: str) -> Path:
    model = root / name
    for rel, data in {"am/final.mdl": os.urandom(512), "conf/mfcc.conf": b"--use-energy=false\n",
                      "graph/HCLG.fst": os.urandom(512)}.items():
        (model / rel).parent.mkdir(parents=True, exist_ok=True)
        (model / rel).write_bytes(data)
    return model


def test_vosk_model_that_fails_to_load(tmp_path):
    # Files in the right places but not a model: the real Vosk library refuses it.
    _broken_model(tmp_path, "vosk-model-small-en-in-0.4")
    _broken_model(tmp_path, "vosk-model-small-hi-0.22")
    assert T.available_engines("en-IN", models_dir=tmp_path) == ["vosk", "pocketsphinx"]
    silence = np.zeros(16000, np.float32)
    with pytest.raises(T.TranscriptionError, match="Vosk could not load model"):
        T.transcribe(silence, language="en-IN", engine="vosk", models_dir=tmp_path)
    with pytest.raises(T.TranscriptionError, match="Vosk could not load model"):
        T.transcribe(silence, language="hi", models_dir=tmp_path)
    # English still gets a transcript: the broken Vosk model falls back to PocketSphinx
    assert T.transcribe(silence, language="en-IN", models_dir=tmp_path).engine == "pocketsphinx"


# ------------------------------------------------------------------------------ bad audio


def test_corrupt_file_is_a_clear_audio_error(tmp_path):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(200))
    with pytest.raises(AudioError):
        decode(bad)


@pytest.mark.parametrize(
    "samples, rate, message",
    [
        (np.zeros(0, np.float32), 16000, "empty"),
        (np.full(16000, np.nan, np.float32), 16000, "NaN"),
        (np.zeros((2, 16000), np.float32), 16000, "mono"),
        (np.zeros(8000, np.float32), 8000, "16000 Hz"),
    ],
)
def test_unusable_samples_raise_transcription_error(samples, rate, message, tmp_path):
    with pytest.raises(T.TranscriptionError, match=message):
        T.transcribe(samples, rate, models_dir=tmp_path)


# ----------------------------------------------------------------------------- long audio


def test_split_at_pauses_covers_ten_minutes_in_bounded_pieces():
    rng = np.random.default_rng(0)
    pcm = (rng.standard_normal(16000 * 600) * 3000).astype(np.int16)
    pcm[16000 * 17 : 16000 * 17 + 800] = 0  # a pause inside the first search window
    ranges = T.split_at_pauses(pcm)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(pcm)
    assert all(a == b_prev for (_, b_prev), (a, _) in zip(ranges, ranges[1:], strict=False))
    assert all(0 < b - a <= 16000 * T.MAX_UTTERANCE_S for a, b in ranges)
    assert 16000 * 17 <= ranges[0][1] <= 16000 * 17 + 800  # cut inside the pause
    assert len(ranges) >= 30


@needs_ravdess
def test_long_real_audio_is_decoded_in_pieces_with_flat_memory(tmp_path):
    """About 42 s of real speech (RAVDESS clips with low noise between them) goes through in
    utterances of at most 20 s; memory while decoding it grows by no more than a few MB over
    a 5 s run. (Ten minutes is measured in benchmarks/transcription_speed.py.)"""
    rows = ravdess_rows(emotion="calm", intensity="normal")[:10]
    rng = np.random.default_rng(1)
    pieces = []
    for r in rows:
        pieces.append(load(RAVDESS / r["path"]))
        pieces.append((rng.standard_normal(8000) * 0.002).astype(np.float32))
    audio = np.concatenate(pieces)
    assert 38 * 16000 < len(audio) < 60 * 16000
    T.transcribe(audio[: 16000 * 5], models_dir=tmp_path)  # warm: model loaded, buffers sized
    with PeakRss() as short:
        T.transcribe(audio[: 16000 * 5], models_dir=tmp_path)
    with PeakRss() as long:
        t = T.transcribe(audio, models_dir=tmp_path)
    growth_mb = (long.peak - short.peak) / 2**20
    assert growth_mb < 25, f"RSS grew {growth_mb:.1f} MB from 5 s to {len(audio) / 16000:.0f} s"
    assert t.words[-1].end > 30, "words must come from the whole call, with call-wide times"
    assert any(w.word in ("door", "dogs", "kids") for w in t.words if w.start > 25)


# ---------------------------------------------------------------- Vosk's documented results

VOSK_RESULT = """{
  "result" : [{
      "conf" : 1.000000,
      "end" : 1.110000,
      "start" : 0.870000,
      "word" : "what"
    }, {
      "conf" : 0.583412,
      "end" : 1.530000,
      "start" : 1.110000,
      "word" : "zero"
    }],
  "text" : "what zero"
}"""


def test_words_from_vosk_result_documented_format():
    words = T.words_from_vosk_result(VOSK_RESULT)
    assert words == [Word("what", 0.87, 1.11, 1.0), Word("zero", 1.11, 1.53, 0.5834)]
    assert T.words_from_vosk_result('{"partial" : "what zero"}') == []
    assert T.words_from_vosk_result('{"text" : ""}') == []


@pytest.mark.parametrize("bad", ['[1, 2]', '{"result": [{"word": "x"}]}',
                                 '{"result": [{"word": "x", "start": "a", "end": 1}]}'])
def test_malformed_vosk_results_are_errors(bad):
    with pytest.raises(T.TranscriptionError):
        T.words_from_vosk_result(bad)


def test_collect_vosk_results_over_a_long_call():
    """A ten-minute call as Vosk reports it: one final result per utterance, then FinalResult."""

    def results():
        for i in range(120):  # 120 utterances of 5 s
            base = i * 5.0
            yield json.dumps({"result": [
                {"conf": 0.9, "end": base + 0.5, "start": base + 0.1, "word": "help"},
                {"conf": 0.8, "end": base + 1.0, "start": base + 0.6, "word": "fire"}],
                "text": "help fire"})
        yield '{"text" : ""}'

    text, words = T.collect_vosk_results(results())
    assert len(words) == 240 and text.split() == ["help", "fire"] * 120
    assert words[-1].end == pytest.approx(596.0)
    assert all(a.start <= b.start for a, b in zip(words, words[1:], strict=False))


def test_transcript_round_trip():
    t = Transcript("help fire", [Word("help", 0.1, 0.5, 0.9), Word("fire", 0.6, 1.0, 0.8)],
                     "en-IN", "vosk", "vosk-model-small-en-in-0.4", 0.2, 0.1, 2.0)
    data = t.to_dict()
    assert data["words"][0] == {"word": "help", "start": 0.1, "end": 0.5, "confidence": 0.9}
    assert Transcript.from_dict(data) == t
