"""The shipped emotion model: loading checks, probabilities, batching, gender hint."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from core import audio
from core.emotion import SHIPPED_CNN_MODEL
from core.emotion.classifier import clear_cache, load_classifier
from core.emotion.datasets import default_ravdess_dir
from core.emotion.gender import estimate_gender
from core.emotion.model_version import METADATA_FILE, MODEL_FILE, ModelError, read_metadata
from core.emotion.prediction import EmotionPrediction

SHIPPED = Path(__file__).resolve().parents[2] / "ml_models" / SHIPPED_CNN_MODEL
RAVDESS = default_ravdess_dir()
needs_ravdess = pytest.mark.skipif(RAVDESS is None or not RAVDESS.is_dir(),
                                   reason="RAVDESS corpus not available (set RAVDESS_DIR)")

# Test actors of the shipped model (never seen in training): one clip per emotion, male and female.
TEST_CLIPS = [f"Actor_{a}/03-01-{e:02d}-0{1 if e == 1 else 2}-01-01-{a}.flac"
              for a in ("23", "24") for e in range(1, 9)]


@pytest.fixture(scope="module")
def classifier():
    return load_classifier(SHIPPED)


def test_shipped_metadata_is_complete():
    meta = read_metadata(SHIPPED)
    assert meta["labels"] == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust",
                              "surprised"]
    assert set(meta["test_actors"]).isdisjoint(meta["train_actors"])
    assert set(meta["val_actors"]).isdisjoint(meta["train_actors"])
    for key in ("dataset", "metrics", "library_versions", "feature_config", "model_sha256"):
        assert meta[key]
    assert (SHIPPED / meta["confusion_png"]).read_bytes()[:4] == b"\x89PNG"


def test_loaded_once_per_process_and_thread_safe(classifier):
    got = []
    threads = [threading.Thread(target=lambda: got.append(load_classifier(str(SHIPPED))))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(c is classifier for c in got)
    assert classifier.version == SHIPPED_CNN_MODEL


@needs_ravdess
def test_classify_real_clips(classifier):
    preds = [classifier.classify(audio.load(RAVDESS / p)) for p in TEST_CLIPS]
    for pred in preds:
        assert isinstance(pred, EmotionPrediction)
        assert list(pred.probabilities) == classifier.labels
        assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
        assert all(0.0 <= p <= 1.0 for p in pred.probabilities.values())
        assert pred.label == max(pred.probabilities, key=pred.probabilities.get)
        assert pred.model_version == classifier.version and pred.seconds > 0
        assert json.loads(json.dumps(pred.to_dict()))["label"] == pred.label
    truth = [classifier.labels[int(p.split("-")[2]) - 1] for p in TEST_CLIPS]
    correct = sum(p.label == t for p, t in zip(preds, truth, strict=True))
    assert correct >= 5  # chance would be 2 of 16: the model has learnt something real


@needs_ravdess
def test_batch_equals_single_and_resampling_input(classifier):
    clips = [audio.load(RAVDESS / p) for p in TEST_CLIPS[:4]]
    clips.append(np.concatenate([clips[0]] * 3))  # a long clip: several windows
    batch = classifier.classify_batch(clips)
    for samples, pred in zip(clips, batch, strict=True):
        single = classifier.classify(samples)
        assert single.label == pred.label
        for lab in classifier.labels:
            assert pred.probabilities[lab] == pytest.approx(single.probabilities[lab], abs=1e-5)
    # 8 kHz input is resampled, not misread as 16 kHz.
    import soxr

    narrow = soxr.resample(clips[0], 16_000, 8_000)
    p8 = classifier.classify(narrow, sample_rate=8_000)
    assert sum(p8.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert classifier.classify_batch([]) == []


def _copy(tmp_path):
    dst = tmp_path / "model"
    shutil.copytree(SHIPPED, dst)
    return dst


def _edit_meta(model_dir, change):
    meta = json.loads((model_dir / METADATA_FILE).read_text())
    change(meta)
    (model_dir / METADATA_FILE).write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["labels"].pop(), "outputs but its metadata lists"),
        (lambda m: m["labels"].__setitem__(1, m["labels"][0]), "labels"),
        (lambda m: m["feature_config"].__setitem__("n_mels", 40), "input"),
        (lambda m: m["feature_config"].__setitem__("feature_version", 99), "feature version"),
        (lambda m: m["feature_config"].__setitem__("n_chroma", 12), "feature settings"),
        (lambda m: m.__setitem__("sample_rate", 8000), "Hz"),
        (lambda m: m.__setitem__("schema", 2), "schema"),
        (lambda m: m.__setitem__("model_sha256", "0" * 64), "sha256"),
    ],
)
def test_mismatched_metadata_is_refused(tmp_path, change, message):
    model_dir = _copy(tmp_path)
    _edit_meta(model_dir, change)
    with pytest.raises(ModelError, match=message):
        load_classifier(model_dir)


def test_missing_or_corrupt_model_is_refused(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_classifier(tmp_path / "nothing")
    model_dir = _copy(tmp_path)
    (model_dir / METADATA_FILE).write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        load_classifier(model_dir)
    clear_cache()
    model_dir = _copy(tmp_path / "b")
    (model_dir / MODEL_FILE).write_bytes(b"garbage")
    _edit_meta(model_dir, lambda m: m.__setitem__(
        "model_sha256", __import__("hashlib").sha256(b"garbage").hexdigest()))
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_classifier(model_dir)
    model_dir = _copy(tmp_path / "c")
    (model_dir / MODEL_FILE).unlink()
    with pytest.raises(ModelError, match="missing"):
        load_classifier(model_dir)


@needs_ravdess
@pytest.mark.parametrize("model_dir", [None, SHIPPED], ids=["pitch", "learned"])
def test_gender_estimate_on_held_out_actors(model_dir):
    male = estimate_gender(audio.load(RAVDESS / "Actor_23/03-01-01-01-01-01-23.flac"),
                           model_dir=model_dir)
    female = estimate_gender(audio.load(RAVDESS / "Actor_24/03-01-01-01-01-01-24.flac"),
                             model_dir=model_dir)
    assert male.label == "male" and male.confidence >= 0.6
    assert female.label == "female" and female.confidence >= 0.6
    silent = estimate_gender(np.zeros(16_000, np.float32), model_dir=model_dir)
    assert silent.label == "unknown"


def test_shipped_learned_gender_figures_on_test_actors():
    gender = read_metadata(SHIPPED)["metrics"]["gender_test"]
    assert gender["clean"]["accuracy_all"] >= 0.85
