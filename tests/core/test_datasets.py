"""Dataset readers: RAVDESS and 112-scheme names, speaker folds, fingerprints."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio import write_wav
from core.emotion.datasets import (
    DatasetError,
    balanced_folds,
    fingerprint,
    labels_of,
    parse_112_name,
    parse_ravdess_name,
    read_dataset,
    speakers_of,
)


def test_parse_ravdess_name():
    info = parse_ravdess_name("03-01-06-02-01-02-13.flac")
    assert info["label"] == "fearful"
    assert info["speaker"] == "13" and info["gender"] == "male"
    assert info["extra"]["intensity"] == "strong"
    assert parse_ravdess_name("03-01-01-01-01-01-24.wav")["gender"] == "female"
    assert parse_ravdess_name("03-01-09-01-01-01-01.wav") is None  # unknown emotion code
    assert parse_ravdess_name("notes.wav") is None


def test_parse_112_name():
    info = parse_112_name("03_02_01_02_117.wav")
    assert info == {"label": "painful", "speaker": "117", "gender": "female",
                    "extra": {"sentence": "02", "type": "synthetic"}}
    assert parse_112_name("02_01_02_01_5.wav")["gender"] == "male"
    assert parse_112_name("05_01_02_01_5.wav") is None  # no emotion 05 in the 112 scheme
    assert parse_112_name("01_01_03_01_5.wav") is None  # gender must be 01 or 02


def make_112_set(root, speakers=("1", "2", "3", "4", "5", "6"), per_label=2, seconds=0.6):
    """A small generated dataset in the 112 naming scheme (tones, not speech)."""
    rng = np.random.default_rng(0)
    sr = 16_000
    t = np.arange(int(sr * seconds)) / sr
    for s_i, spk in enumerate(speakers):
        gender = "01" if s_i % 2 else "02"
        folder = root / f"speaker_{spk}"
        folder.mkdir(parents=True, exist_ok=True)
        for emo in ("01", "02", "03", "04"):
            for sentence in range(1, per_label + 1):
                f0 = 110 * (1 + int(emo)) * (1.6 if gender == "01" else 1.0)
                y = 0.2 * np.sin(2 * np.pi * f0 * t) + 0.01 * rng.standard_normal(t.size)
                name = f"{emo}_{sentence:02d}_{gender}_01_{spk}.wav"
                write_wav(folder / name, y.astype(np.float32), sr)
    (root / "README.txt").write_text("not audio")
    return root


def test_read_generated_112_dataset(tmp_path):
    root = make_112_set(tmp_path / "agency")
    clips = read_dataset(root)
    assert len(clips) == 6 * 4 * 2
    assert labels_of(clips) == ["angry", "drunk", "painful", "stressful"]
    assert speakers_of(clips) == ["1", "2", "3", "4", "5", "6"]
    assert {c.scheme for c in clips} == {"112"}
    assert {c.gender for c in clips if c.speaker == "2"} == {"female"}
    folds = balanced_folds(clips, 3)
    assert sorted(sum(folds, [])) == speakers_of(clips)
    genders = {c.speaker: c.gender for c in clips}
    for fold in folds:
        assert sorted(genders[s] for s in fold) == ["female", "male"]


def test_mixed_or_empty_dataset_is_refused(tmp_path):
    with pytest.raises(DatasetError):
        read_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.wav").write_bytes(b"")
    with pytest.raises(DatasetError):
        read_dataset(tmp_path / "empty")
    mixed = make_112_set(tmp_path / "mixed", speakers=("1",), per_label=1)
    write_wav(mixed / "03-01-01-01-01-01-01.wav", np.zeros(1600, np.float32))
    with pytest.raises(DatasetError, match="mixes"):
        read_dataset(mixed)


def test_fingerprint_changes_with_content(tmp_path):
    root = make_112_set(tmp_path / "fp", speakers=("1", "2"), per_label=1)
    clips = read_dataset(root)
    before = fingerprint(clips, root)
    assert before == fingerprint(clips, root)
    write_wav(clips[0].path, np.zeros(1600, np.float32))
    assert fingerprint(clips, root) != before


def test_ravdess_folds_are_two_male_two_female():
    from pathlib import Path

    from core.emotion.datasets import Clip

    clips = [Clip(Path(f"03-01-01-01-01-01-{a:02d}.wav"), "neutral", f"{a:02d}",
                  "male" if a % 2 else "female", "ravdess") for a in range(1, 25)]
    folds = balanced_folds(clips, 6)
    assert folds[0] == ["01", "02", "03", "04"]
    assert folds[5] == ["21", "22", "23", "24"]
    for fold in folds:
        assert sum(int(s) % 2 for s in fold) == 2


def test_uneven_speaker_counts_still_fill_every_fold():
    from pathlib import Path

    from core.emotion.datasets import Clip, balanced_folds

    clips = [Clip(Path(f"{s}.wav"), "calm", f"{s:02d}", "male" if s % 2 else "female", "ravdess") for s in range(1, 13)]
    folds = balanced_folds(clips, 4)  # 6 men and 6 women over 4 folds: 2, 2, 1, 1 of each
    assert [len(f) for f in folds] == [4, 4, 2, 2] and sorted(sum(folds, [])) == [f"{s:02d}" for s in range(1, 13)]
