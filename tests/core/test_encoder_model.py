"""The Whisper-encoder emotion model: the numpy encoder against CTranslate2's own, the head, a
version trained end to end on a small set and loaded like any other, and its refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from core import audio
from core.emotion.classifier import clear_cache, load_classifier
from core.emotion.encoder_classifier import EncoderClassifier
from core.emotion.encoder_model import EncoderHead, embed_layers, fit_head, select_layers
from core.emotion.encoder_training import SPEED_VARIANTS, HeadSearch
from core.emotion.encoder_version import train_encoder_model
from core.emotion.model_version import ModelError, read_metadata
from core.emotion.voice_baseline import VoiceBaseline
from core.emotion.whisper_encoder import WhisperEncoder, load_encoder
from core.speech.whisper import default_model_dir

from .test_datasets import make_112_set

SMALL_SEARCH = HeadSearch(layer_options=((1,), (1, 2)), c_options=(0.01, 0.1), inner_folds=2)


@pytest.fixture(scope="module")
def encoder() -> WhisperEncoder:
    return load_encoder()


def test_every_layer_in_one_pass_and_the_last_matches_ctranslate2(encoder, speech_clip):
    import ctranslate2

    states = encoder.hidden_states(speech_clip)
    assert len(states) == 4 and all(s.shape == states[0].shape for s in states)
    frames = encoder.mel(speech_clip).shape[1] // 2
    assert states[-1].shape == (frames, 384)
    reference = ctranslate2.models.Whisper(str(default_model_dir()), device="cpu", compute_type="float32")
    mel = ctranslate2.StorageView.from_array(encoder.mel(speech_clip)[None])
    expected = np.array(reference.encode(mel, to_cpu=True))[0]
    assert np.corrcoef(states[-1].ravel(), expected.ravel())[0, 1] > 0.9999
    assert np.abs(states[-1] - expected).max() < 1e-3


def test_a_clip_becomes_one_pooled_embedding_per_layer(encoder, speech_clip):
    layers = embed_layers(encoder, speech_clip)
    assert layers.shape == (4, 768) and np.all(np.isfinite(layers))
    assert select_layers(layers, [1, 2]).shape == (1536,)
    short = embed_layers(encoder, speech_clip[:800])  # 50 ms: padded, still an embedding
    assert short.shape == (4, 768) and np.all(np.isfinite(short))


def test_the_head_round_trips_and_knows_what_it_was_trained_on():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (60, 8)), rng.normal(3, 1, (60, 8))])
    y = np.array([0] * 60 + [2] * 60)
    head = fit_head(x, y, ["calm", "absent", "angry"], [1], c=1.0)
    probs = head.probabilities(x)
    assert probs.shape == (120, 3) and np.allclose(probs.sum(axis=1), 1) and probs[:, 1].max() < 1e-6
    assert (probs.argmax(axis=1) == y).mean() > 0.95
    again = EncoderHead.from_dict(json.loads(json.dumps(head.to_dict())))
    assert np.allclose(again.probabilities(x), probs)
    assert head.unfamiliarity(x[0]) < head.familiar_distance < head.unfamiliarity(x[0] + 40)


@pytest.fixture(scope="module")
def tiny_version(tmp_path_factory):
    root = tmp_path_factory.mktemp("encoder")
    data = make_112_set(root / "agency")
    out = root / "ml_models" / "encoder-tiny-v1"
    seen = []
    meta = train_encoder_model(data, out, search=SMALL_SEARCH, folds=3, cache_dir=root / "cache", progress=False,
                               log=lambda s: None, progress_callback=lambda i, n, row: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    return out, meta


def test_a_trained_version_loads_and_classifies_like_any_other(tiny_version):
    out, meta = tiny_version
    assert meta["model_kind"] == "whisper_encoder" and read_metadata(out)["labels"] == meta["labels"]
    assert set(meta["metrics"]["held_out"]) >= {"folds", "ua", "telephone_ua", "confusion"}
    assert meta["reliability"]["distress_auc_cross_corpus"] is None  # no second corpus given
    assert (out / "head.json").is_file() and (out / "gender.json").is_file() and (out / "confusion.png").is_file()
    clear_cache()
    clf = load_classifier(out)
    prediction = clf.classify(audio.load(next(out.parent.parent.rglob("*.wav"))))
    assert prediction.model_version == "encoder-tiny-v1" and prediction.gender is not None
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
    assert prediction.unfamiliarity is not None and prediction.baseline_calls is None  # it does not adapt


def test_a_replaced_head_or_another_whisper_model_is_refused(tiny_version, tmp_path):
    out, _ = tiny_version
    copy = tmp_path / "copy-v1"
    shutil.copytree(out, copy)
    (copy / "head.json").write_text((copy / "head.json").read_text() + " ")
    clear_cache()
    with pytest.raises(ModelError, match="does not match the sha256"):
        load_classifier(copy)
    shutil.copy(out / "head.json", copy / "head.json")
    meta = json.loads((copy / "metadata.json").read_text())
    meta["encoder"]["model_sha256"] = "0" * 64
    (copy / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="another Whisper model"):
        load_classifier(copy)


def test_the_train_command_makes_an_encoder_version(tmp_path):
    from django.core.management import call_command

    data = make_112_set(tmp_path / "agency")
    manifest = tmp_path / "other" / "manifest.csv"
    manifest.parent.mkdir()
    rows = ["path,label,speaker,gender"]
    for i, wav in enumerate(sorted(Path(data).rglob("*.wav"))[:12]):
        target = manifest.parent / f"clip{i}.wav"
        shutil.copy(wav, target)
        rows.append(f"{target.name},{['angry', 'drunk', 'painful', 'stressful'][i % 4]},s{i % 3},female")
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "enc-cmd-v1"
    call_command("train_emotion_model", "--kind", "whisper-encoder", "--dataset", str(data), "--out", str(out),
                 "--folds", "3", "--cross-corpus", str(manifest), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress", "--variants", "speed", "--layer-options", "1;0,1", "--c-values", "0.01",
                 "--adapt-to-deployment", stdout=open("/dev/null", "w"))
    meta = read_metadata(out)
    assert meta["metrics"]["cross_corpus"]["n"] == 12 and meta["metrics"]["cross_corpus"]["corpus"] == "other"
    assert meta["training"]["variants"] == list(SPEED_VARIANTS) and meta["training"]["adapts_to_deployment"]
    # the unseen corpus's distress AUC in force is the one over every label the model answers with
    clean = meta["metrics"]["cross_corpus"]["clean"]
    assert meta["reliability"]["distress_auc_cross_corpus"] == clean["distress_auc_all_labels"]
    # only the layers the search can choose were computed and cached: 2 of tiny.en's 4, 10 copies per clip
    cached = [np.load(f, mmap_mode="r").shape for f in (tmp_path / "cache").glob("encoder-*.npy")]
    assert any(shape[1:3] == (len(SPEED_VARIANTS), 2) for shape in cached), cached
    # it adapts: the training data's statistics until calls come, then the deployment's own
    clear_cache()
    classifier = load_classifier(out)
    assert isinstance(classifier, EncoderClassifier) and classifier.adapts
    clips = [audio.load(wav) for wav in sorted(Path(data).rglob("*.wav"))[:6]]
    cold, embedding = classifier.read(clips[0])
    assert cold.baseline_calls == 0 and sum(cold.probabilities.values()) == pytest.approx(1.0)
    baseline = VoiceBaseline.first(embedding)
    for clip in clips[1:]:
        baseline = baseline.learnt(classifier.read(clip)[1])
    warm = classifier.classify(clips[0], baseline=baseline)
    assert warm.baseline_calls == 6 and warm.probabilities != cold.probabilities


def test_speed_perturbation_changes_pace_and_pitch_together():
    from core.augment import speed_perturb

    t = np.arange(16_000) / 16_000
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    faster = speed_perturb(tone, 1.1)
    assert len(faster) == pytest.approx(16_000 / 1.1, abs=2) and faster.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(faster))
    assert np.fft.rfftfreq(len(faster), 1 / 16_000)[spectrum.argmax()] == pytest.approx(220, abs=2)
    assert len(speed_perturb(tone, 0.85)) == pytest.approx(16_000 / 0.85, abs=2)
    with pytest.raises(ValueError, match="outside"):
        speed_perturb(tone, 3.0)


def test_training_variants_start_with_the_two_the_figures_are_judged_on():
    from core.emotion.encoder_training import check_variants

    assert check_variants(SPEED_VARIANTS) == SPEED_VARIANTS
    for bad in (("telephone", "clean"), ("clean", "telephone", "speed 9"), ("clean", "telephone", "clean"),
                ("clean",)):
        with pytest.raises(ValueError, match="training variants"):
            check_variants(bad)
