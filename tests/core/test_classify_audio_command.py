"""``manage.py classify_audio``: JSON output, per-file errors, exit status, many files."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.audio import load, write_wav
from core.emotion import SHIPPED_CNN_MODEL
from core.emotion.datasets import default_ravdess_dir

SHIPPED = Path(__file__).resolve().parents[2] / "ml_models" / SHIPPED_CNN_MODEL
RAVDESS = default_ravdess_dir()
needs_ravdess = pytest.mark.skipif(RAVDESS is None or not RAVDESS.is_dir(),
                                   reason="RAVDESS corpus not available (set RAVDESS_DIR)")


def run(*args):
    out = StringIO()
    code = 0
    try:
        call_command("classify_audio", *args, "--model-dir", str(SHIPPED), stdout=out)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue()


@needs_ravdess
def test_json_output_with_a_corrupt_file_in_the_middle(tmp_path):
    good1 = RAVDESS / "Actor_22/03-01-05-02-01-01-22.flac"
    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage that is not audio")
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    good2 = tmp_path / "as_wav.wav"
    write_wav(good2, load(RAVDESS / "Actor_21/03-01-04-02-01-01-21.flac"))
    code, text = run(str(good1), str(corrupt), str(empty), str(good2), "--json")
    assert code == 1
    results = json.loads(text)
    assert [r["file"] for r in results] == [str(good1), str(corrupt), str(empty), str(good2)]
    assert "error" in results[1] and "error" in results[2]
    for r in (results[0], results[3]):
        assert set(r) == {"file", "label", "probabilities", "model_version", "unfamiliar", "baseline_calls", "seconds",
                      "decode_seconds"}
        assert r["model_version"] == SHIPPED_CNN_MODEL and r["baseline_calls"] is None  # the CNN does not adapt
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert r["label"] == max(r["probabilities"], key=r["probabilities"].get)


def test_many_files_in_one_call_and_plain_output(tmp_path):
    rng = np.random.default_rng(0)
    files = []
    for i in range(150):  # more than one inference batch
        path = tmp_path / f"clip{i}.wav"
        tone = np.sin(2 * np.pi * (120 + i) * np.arange(8000) / 16_000)
        write_wav(path, (0.2 * tone + 0.01 * rng.standard_normal(8000)).astype(np.float32))
        files.append(str(path))
    code, text = run(*files, "--json")
    assert code == 0
    results = json.loads(text)
    assert len(results) == 150 and all("label" in r for r in results)
    code, text = run(files[0])
    assert code == 0 and f"model={SHIPPED_CNN_MODEL}" in text


def test_missing_model_is_a_clear_command_error(tmp_path):
    with pytest.raises(CommandError, match="not found"):
        call_command("classify_audio", "x.wav", "--model-dir", str(tmp_path / "none"),
                     stdout=StringIO())
