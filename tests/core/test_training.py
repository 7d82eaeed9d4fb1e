"""Training end to end on tiny sets (one epoch) and the evaluation metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.emotion.classifier import load_classifier
from core.emotion.datasets import default_ravdess_dir
from core.emotion.metrics import evaluate
from core.emotion.model_version import read_metadata
from core.emotion.train_config import TrainConfig
from core.emotion.training import train_emotion_model

from .test_datasets import make_112_set

RAVDESS = default_ravdess_dir()
needs_ravdess = pytest.mark.skipif(RAVDESS is None or not RAVDESS.is_dir(),
                                   reason="RAVDESS corpus not available (set RAVDESS_DIR)")

TINY = TrainConfig(epochs=1, batch_size=16, n_augment=1, seed=3,
                   arch={**TrainConfig().arch, "filters": [8, 8, 8, 8], "dense": 8})


def test_evaluate_metrics_by_hand():
    labels = ["neutral", "calm", "happy", "sad", "angry"]
    y = np.array([0, 0, 1, 3, 4, 4])
    probs = np.eye(5)[[0, 1, 1, 3, 4, 2]] * 0.9 + 0.02
    m = evaluate(probs, y, labels, ["male", "male", "female", "female", "male", "female"])
    assert m["weighted_accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    # recalls: neutral 1/2, calm 1, sad 1, angry 1/2 (happy has no clips) -> mean 0.75
    assert m["unweighted_accuracy"] == pytest.approx(0.75, abs=1e-4)
    assert m["per_class"]["calm"]["precision"] == pytest.approx(0.5, abs=1e-4)
    assert m["per_gender"]["male"]["weighted_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert "distress_auc" in m and 0.0 <= m["distress_auc"] <= 1.0


@needs_ravdess
def test_tiny_ravdess_training_run_writes_a_loadable_version(tmp_path):
    data = tmp_path / "ravdess"
    for actor in ("01", "02", "03", "04"):
        folder = data / f"Actor_{actor}"
        folder.mkdir(parents=True)
        for emo in range(1, 9):
            name = f"03-01-{emo:02d}-01-01-01-{actor}.flac"
            (folder / name).symlink_to(RAVDESS / f"Actor_{actor}" / name)
    out = tmp_path / "ml_models" / "tiny-v1"
    epochs_seen = []
    meta = train_emotion_model(data, out, train_config=TINY, test_speakers=["03"],
                               val_speakers=["04"], cache_dir=tmp_path / "cache", progress=False,
                               progress_callback=lambda e, n, row: epochs_seen.append((e, n)),
                               log=lambda s: None)
    assert epochs_seen == [(1, 1)]
    assert meta["train_actors"] == ["01", "02"] and meta["test_actors"] == ["03"]
    assert set(meta["metrics"]) >= {"test", "test_telephone", "val", "telephone_ua_drop"}
    assert read_metadata(out)["dataset"]["fingerprint"] == meta["dataset"]["fingerprint"]
    assert (out / "confusion.png").stat().st_size > 1000
    clf = load_classifier(out)
    assert clf.version == "tiny-v1" and len(clf.labels) == 8
    # The learned gender estimator is written with the version and used through model_dir.
    assert (out / "gender.json").is_file() and meta["gender_file"] == "gender.json"
    assert meta["metrics"]["gender_test"]["clean"]["n"] == 8
    from core import audio
    from core.emotion.gender import estimate_gender

    est = estimate_gender(audio.load(data / "Actor_03" / "03-01-01-01-01-01-03.flac"),
                          model_dir=out)
    assert est.label in ("female", "male", "unknown") and 0.0 <= est.confidence <= 1.0
    pred = clf.classify(np.random.default_rng(0).standard_normal(16_000).astype(np.float32) * 0.1)
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(FileExistsError):
        train_emotion_model(data, out, train_config=TINY, progress=False, log=lambda s: None)


def test_agency_112_dataset_trains_the_same_way(tmp_path):
    data = make_112_set(tmp_path / "agency")
    out = tmp_path / "agency-v1"
    meta = train_emotion_model(data, out, train_config=TINY, cache_dir=tmp_path / "cache",
                               progress=False, log=lambda s: None)
    assert meta["labels"] == ["angry", "drunk", "painful", "stressful"]
    assert meta["dataset"]["scheme"] == "112"
    assert set(meta["test_actors"]).isdisjoint(meta["train_actors"] + meta["val_actors"])
    assert "distress_auc" not in meta["metrics"]["test"]  # no RAVDESS distress labels
    saved = json.loads((out / "metadata.json").read_text())
    assert saved["speaker_genders"]["1"] == "male"
    assert load_classifier(out).labels == meta["labels"]


def test_an_ensemble_saves_as_one_model_averaging_its_members(tmp_path):
    from dataclasses import replace

    data = make_112_set(tmp_path / "agency")
    seen = []
    meta = train_emotion_model(data, tmp_path / "ens-v1", train_config=replace(TINY, ensemble=2),
                               cache_dir=tmp_path / "cache", progress=False, log=lambda s: None,
                               progress_callback=lambda e, n, row: seen.append((e, n)))
    assert seen == [(1, 2), (2, 2)]
    assert meta["training"]["ensemble"] == 2 and len(meta["training"]["best_epoch"]) == 2
    assert [row["member"] for row in meta["training"]["history"]] == [0, 1]
    clf = load_classifier(tmp_path / "ens-v1")
    members = [layer for layer in clf.model.layers if layer.name.startswith("emotion_cnn1d_")]
    assert len(members) == 2
    x = np.random.default_rng(1).standard_normal(
        (3, *clf.model.input_shape[1:])).astype(np.float32)
    expected = np.mean([m.predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(clf.model.predict(x, verbose=0), expected, atol=1e-6)
    assert not np.allclose(members[0].predict(x, verbose=0), members[1].predict(x, verbose=0))


def test_train_command_validates_its_options_like_the_library(tmp_path):
    from django.core.management import CommandError, call_command

    data = make_112_set(tmp_path / "agency")
    out = tmp_path / "cmd-v1"
    common = ["--dataset", str(data), "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    for option, value, message in (("--epochs", "0", "epochs must be"), ("--augment", "-1", "n_augment"),
                                   ("--ensemble", "0", "ensemble must be")):
        with pytest.raises(CommandError, match=message):
            call_command("train_emotion_model", *common, "--out", str(out), option, value)
        assert not out.exists()
    call_command("train_emotion_model", *common, "--out", str(out), "--epochs", "1", "--augment", "0")
    meta = read_metadata(out)
    assert meta["training"]["epochs"] == 1 and meta["training"]["n_augment"] == 0


def test_train_config_refuses_bad_values():
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="learning_rate"):
        TrainConfig(learning_rate=0.0)
    with pytest.raises(ValueError, match="kernel size"):
        TrainConfig(arch={**TrainConfig().arch, "kernels": [5]})
