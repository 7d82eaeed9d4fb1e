"""Whisper base as the voice's encoder: joined once from its two PyPI wheels and checked, the numpy encoder
against CTranslate2's own on it, only the layers a head reads computed, and the shipped base version
loaded and classifying like any other."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core.emotion import SHIPPED_MODELS_DIR
from core.emotion.classifier import clear_cache, load_classifier
from core.emotion.encoder_model import embed_layers
from core.emotion.model_version import ModelError
from core.emotion.whisper_encoder import BASE, TINY_EN, _gelu, load_named_encoder
from core.speech import whisper
from core.speech.errors import TranscriptionError

BASE_VERSION = SHIPPED_MODELS_DIR / "emotion-whisper-base-v3"


def test_the_parts_are_joined_once_into_the_pinned_model_and_a_damaged_join_is_redone(tmp_path, monkeypatch):
    monkeypatch.delenv("WHISPER_BASE_DIR", raising=False)
    monkeypatch.setenv("WHISPER_BASE_CACHE", str(tmp_path))
    folder = whisper.base_model_dir()
    assert folder is not None and folder.parent == tmp_path
    assert whisper.verify_model_dir(folder, whisper.BASE_MODEL_FILES_SHA256) == whisper.BASE_MODEL_FILES_SHA256["model.bin"]
    joined_at = (folder / "model.bin").stat().st_mtime_ns
    assert whisper.base_model_dir() == folder and (folder / "model.bin").stat().st_mtime_ns == joined_at  # not again
    with (folder / "model.bin").open("r+b") as handle:  # a crash, a full disk: half a model
        handle.truncate(1000)
    assert whisper.base_model_dir() == folder
    whisper.verify_model_dir(folder, whisper.BASE_MODEL_FILES_SHA256)
    assert not list(folder.glob("model.bin.*"))  # no temporary file left behind


def test_parts_that_do_not_join_into_the_pinned_model_are_refused(tmp_path):
    sources = [tmp_path / "one", tmp_path / "two"]
    for source, (_, part) in zip(sources, whisper._BASE_PARTS, strict=True):
        source.mkdir()
        (source / part).write_bytes(b"not a model")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (sources[0] / name).write_text("{}")
    with pytest.raises(TranscriptionError, match="pinned sha256"):
        whisper._join_base(sources, tmp_path / "joined")


def test_the_numpy_encoder_reads_base_as_ctranslate2_does(speech_clip):
    import ctranslate2

    encoder = load_named_encoder(BASE)
    assert (encoder.n_layers, encoder.n_heads, encoder.width) == (6, 8, 512)
    states = encoder.hidden_states(speech_clip)
    reference = ctranslate2.models.Whisper(str(whisper.base_model_dir()), device="cpu", compute_type="float32")
    expected = np.array(reference.encode(ctranslate2.StorageView.from_array(encoder.mel(speech_clip)[None]),
                                         to_cpu=True))[0]
    assert np.corrcoef(states[-1].ravel(), expected.ravel())[0, 1] > 0.9999
    assert np.abs(states[-1] - expected).max() < 1e-3
    first = encoder.hidden_states(speech_clip, n_layers=3)  # a head reading layer 2 stops there
    assert len(first) == 3 and all(np.array_equal(a, b) for a, b in zip(first, states, strict=False))
    assert embed_layers(encoder, speech_clip, n_layers=3).shape == (3, 1024)


def test_the_fast_gelu_is_whispers_exact_one():
    from scipy.special import erf

    x = np.linspace(-10, 10, 200_001).astype(np.float32)
    assert np.abs(_gelu(x) - 0.5 * x * (1 + erf(x / np.sqrt(2)))).max() < 1e-6


def test_an_unknown_encoder_is_refused_by_name():
    from core.emotion.whisper_encoder import EncoderError

    with pytest.raises(EncoderError, match="unknown Whisper encoder"):
        load_named_encoder("whisper-huge")
    assert load_named_encoder(TINY_EN).n_layers == 4


@pytest.mark.parametrize("version", ["emotion-whisper-base-v3", "emotion-whisper-base-v4", "emotion-whisper-base-v5"])
def test_the_shipped_base_versions_load_read_their_layers_only_and_classify(speech_clip, version):
    folder = SHIPPED_MODELS_DIR / version
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["encoder"]["model"] == BASE and meta["encoder"]["model_sha256"] == whisper.BASE_MODEL_FILES_SHA256["model.bin"]
    clear_cache()
    clf = load_classifier(folder)
    assert clf.n_layers == max(meta["encoder"]["layers"]) + 1 <= 3  # the cost budget: at most three blocks
    prediction = clf.classify(speech_clip)
    assert prediction.model_version == version
    assert set(prediction.probabilities) == set(meta["labels"])
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    reliability = meta["reliability"]
    assert reliability["distress_auc_cross_corpus"] > 0.72  # beats v1's 0.723 on EmoDB, never trained on


def test_a_version_naming_another_encoder_than_its_weights_is_refused(tmp_path):
    copy = tmp_path / "base-copy"
    shutil.copytree(BASE_VERSION, copy)
    meta = json.loads((copy / "metadata.json").read_text())
    meta["encoder"]["model"] = TINY_EN  # base's head on tiny.en's encoder: the checksum gives it away
    (copy / "metadata.json").write_text(json.dumps(meta))
    clear_cache()
    with pytest.raises(ModelError, match="another Whisper model"):
        load_classifier(copy)
    meta["encoder"]["model"] = "whisper-huge"
    (copy / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_classifier(Path(copy))


def test_whisper_base_can_be_the_transcriber_and_an_unknown_one_is_refused(speech_samples_dir, monkeypatch):
    from core.audio import load

    monkeypatch.setenv("WHISPER_MODEL", "base")
    engine = whisper.WhisperEngine(threads=1)
    assert engine.model == "whisper-base-ct2-int8" and engine.model_checksum == whisper.BASE_MODEL_FILES_SHA256["model.bin"]
    text, words = engine.run(load(speech_samples_dir / "en_fire.wav"))
    assert "on fire" in text.lower() and all(0.0 <= w.confidence <= 1.0 for w in words)
    # the live worker names its own (tiny.en), whatever WHISPER_MODEL says
    assert whisper.WhisperEngine(threads=1, model_name="tiny.en").model == whisper.MODEL_NAME
    monkeypatch.setenv("WHISPER_MODEL", "large-v9")
    with pytest.raises(TranscriptionError, match="WHISPER_MODEL must be one of tiny.en, base"):
        whisper.WhisperEngine(threads=1)


def test_a_silent_line_with_packet_loss_gives_no_words_and_speech_keeps_them(speech_samples_dir, monkeypatch):
    """The benchmark's silent call through the telephone channel with 5 % of packets lost: Whisper base
    wrote "I'm sorry I'm sorry I'm sorry" over it on one build machine (its int8 kernels differ by CPU,
    so another may write nothing); the speech gate finds no speech there, so Whisper is never asked,
    and it lets the spoken samples through."""
    import io

    from benchmarks.callset.scripts import scripts_of
    from benchmarks.callset.synth import render_call
    from benchmarks.callset.voices import NO_VOICE
    from core.audio import decode, load

    silent = next(s for s in scripts_of("tuning") if s.kind == "silent" and s.subkind == "silence")
    line = decode(io.BytesIO(render_call(silent, NO_VOICE, "loss5").wav)).samples
    engine = whisper.WhisperEngine(threads=1, model_name="base")
    decoded: list[int] = []
    decode_words = engine.run_with_prompt
    monkeypatch.setattr(engine, "run_with_prompt", lambda pcm, prompt: decoded.append(len(pcm)) or decode_words(pcm, prompt))
    assert engine.run(line) == ("", [])
    assert decoded == [], "the gate let a silent line through to Whisper"
    for name in ("en_fire.wav", "en_ambulance.wav"):
        assert engine.run(load(speech_samples_dir / name))[1], name
    assert len(decoded) == 2  # speech goes through the gate to Whisper
