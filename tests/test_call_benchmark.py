"""The call-ranking benchmark's generator and figures (benchmarks/callset), without running it:
the script set's rules, held-out voices never used in tuning, the telephone channel (8 kHz,
300-3400 Hz, G.711 mu-law, packet loss), deterministic rendering, and the figures on a hand-made list."""

from __future__ import annotations

import shutil
import struct
from collections import Counter

import numpy as np
import pytest

from benchmarks.callset import channel, figures
from benchmarks.callset.scripts import INCIDENT_TYPES, KINDS, ROUTINE_TYPES, load_scripts
from benchmarks.callset.voices import assign_voices, voice_ids

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (scripts/system-deps.sh --test)")


def test_the_script_set_has_every_kind_and_incident_type_in_both_splits():
    scripts = load_scripts()
    assert len(scripts) >= 240
    assert len({s.id for s in scripts}) == len(scripts)
    for split in ("tuning", "heldout"):
        part = [s for s in scripts if s.split == split]
        assert {s.kind for s in part} == set(KINDS), split
        assert {s.incident_type for s in part if s.kind == "emergency"} == set(INCIDENT_TYPES), split
        assert all(s.incident_type in ROUTINE_TYPES for s in part if s.kind == "routine")
    for kind in KINDS:  # about 40 % of every kind is held out
        held = [s.split == "heldout" for s in scripts if s.kind == kind]
        assert 0.3 <= sum(held) / len(held) <= 0.5, kind
    tuning_texts = {s.text.lower() for s in scripts if s.split == "tuning" and s.text}
    assert not any(s.text.lower() in tuning_texts for s in scripts if s.split == "heldout" and s.kind != "silent")
    assert all(1 <= s.text.count(".") + s.text.count("?") + s.text.count("!") for s in scripts if s.kind != "silent")


def test_held_out_scripts_are_spoken_by_voices_never_used_in_tuning():
    scripts = load_scripts()
    voices = assign_voices(list(scripts))
    used = {split: {voices[s.id].id for s in scripts if s.split == split and voices[s.id].engine != "none"}
            for split in ("tuning", "heldout")}
    assert used["tuning"].isdisjoint(used["heldout"])
    assert used["tuning"] <= voice_ids("tuning") and used["heldout"] <= voice_ids("heldout")
    assert len(used["tuning"]) >= 20 and len(used["heldout"]) >= 20
    engines = Counter((s.split, voices[s.id].engine) for s in scripts)
    assert engines[("heldout", "festival")] >= 20 and engines[("tuning", "festival")] == 0
    assert assign_voices(list(scripts)) == voices  # deterministic


def test_mu_law_is_g711():
    assert channel.mulaw_encode(np.array([0.0]))[0] == 0xFF
    assert channel.mulaw_encode(np.array([1.0]))[0] == 0x80
    assert channel.mulaw_encode(np.array([-1.0]))[0] == 0x00
    levels = channel.mulaw_levels()
    assert levels.max() == pytest.approx(32124 / 32768) and levels.min() == pytest.approx(-32124 / 32768)
    codes = np.arange(256, dtype=np.uint8)
    again = channel.mulaw_encode(levels)
    assert np.array_equal(again[codes != 0x7F], codes[codes != 0x7F])  # 0x7F is the other zero
    x = np.linspace(-1, 1, 10_001)
    assert np.max(np.abs(channel.mulaw_decode(channel.mulaw_encode(x)) - x)) < 0.02


def test_packet_loss_silences_whole_20_ms_packets():
    codes = np.zeros(8000, dtype=np.uint8)  # one second
    lost_codes, lost = channel.drop_packets(codes, 0.15, np.random.default_rng(0))
    assert lost == round(0.15 * 50)
    silent = lost_codes.reshape(-1, channel.FRAME) == channel.MULAW_SILENCE
    assert silent.all(axis=1).sum() == lost and not (silent.any(axis=1) & ~silent.all(axis=1)).any()


def _wav_format(wav: bytes) -> tuple[int, int, int, int]:
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and wav[12:16] == b"fmt "
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", wav[20:36])
    return tag, channels, rate, bits


@needs_espeak
def test_a_call_is_rendered_deterministically_as_band_limited_8_khz_mu_law(tmp_path):
    from benchmarks.callset import synth

    scripts = {s.id: s for s in load_scripts()}
    voices = assign_voices(list(scripts.values()))
    script = scripts["T-MED-02"]
    first = synth.render_call(script, voices[script.id], "loss15")
    assert synth.render_call(script, voices[script.id], "loss15").wav == first.wav
    cached = synth.render_call(script, voices[script.id], "loss15", cache_dir=tmp_path)
    assert cached.wav == first.wav == synth.render_call(script, voices[script.id], "loss15", cache_dir=tmp_path).wav
    assert first.info["packets_lost"] > 0
    assert _wav_format(first.wav) == (7, 1, 8000, 8)  # G.711 mu-law, mono, 8 kHz
    samples = synth.decode_call(first.wav)
    assert set(np.unique(samples)) <= set(channel.mulaw_levels())
    phone = synth.decode_call(synth.render_call(script, voices[script.id], "phone").wav)
    power = np.abs(np.fft.rfft(phone)) ** 2
    freqs = np.fft.rfftfreq(len(phone), 1 / 8000)
    outside = power[(freqs < 200) | (freqs > 3600)].sum() / power.sum()
    assert outside < 0.02, outside
    assert len(phone) / 8000 > 3.0  # speech, with a little line before and after


def _call(kind: str, score: float, band: str, split: str = "heldout", true: str | None = None,
          pred: str | None = None, condition: str = "phone") -> dict:
    return {"kind": kind, "split": split, "score": score, "band": band, "incident_true": true,
            "incident_pred": pred, "condition": condition, "voice_family": "espeak-male"}


def test_the_figures_on_a_hand_made_list():
    calls = [
        _call("emergency", 80, "critical", true="fire", pred="fire"),
        _call("emergency", 60, "high", true="medical", pred="fire", condition="loss15"),
        _call("emergency", 20, "low", true="crime", pred="crime"),
        _call("routine", 50, "normal"),
        _call("routine", 60, "high"),
        _call("non_emergency", 30, "normal"),
        _call("prank", 60, "high"),
        _call("abusive", 10, "low"),
        _call("silent", 62, "high"),
    ]
    f = figures.ranking(calls)
    # emergencies 80, 60, 20 over non-genuine 30, 60, 10: 80 beats 3; 60 beats 2, ties 1; 20 beats 1
    assert f["auc_emergency_vs_non_genuine"] == pytest.approx((3 + 2.5 + 1) / 9)
    assert f["auc_emergency_vs_routine"] == pytest.approx((2 + 1.5 + 0) / 6)
    assert f["emergencies_at_low"] == 1 and f["emergencies"] == 3
    assert f["non_genuine_high_plus"] == pytest.approx(1 / 3)
    assert f["routine_high_plus"] == pytest.approx(1 / 2)
    assert f["incident_accuracy"] == pytest.approx(2 / 3)
    assert f["silent_bands"] == {"high": 1}
    assert f["bands_by_kind"]["emergency"] == {"critical": 1, "high": 1, "normal": 0, "low": 1}
    by_condition = figures.grouped(calls, "condition")
    assert by_condition["loss15"]["calls"] == 1 and by_condition["loss15"]["auc_emergency_vs_non_genuine"] is None
    assert figures.incident_confusion(calls)["medical"] == {"fire": 1}
    assert figures.auc([], [1.0]) is None
    heard = figures.transcriber([
        {"voice_kind": "synthetic", "word_confidence": 0.5, "wer": 0.5, "ref_words": 10},
        {"voice_kind": "synthetic", "word_confidence": 0.9, "wer": 0.0, "ref_words": 30},
        {"voice_kind": "synthetic", "word_confidence": None},
        {"voice_kind": "human-ravdess", "word_confidence": 0.95, "wer": 0.0, "ref_words": 6},
    ])
    assert heard["synthetic"] == {"calls": 3, "no_words": 1, "mean_word_confidence": 0.7, "below_0_8": 0.5,
                                  "wer": 0.125}
    assert heard["human-ravdess"]["below_0_8"] == 0.0


def test_out_of_fold_words_models_never_learn_the_script_they_read():
    from benchmarks.callset.oof_words import FOLDS, fold_of, training_rows

    scripts = [s.id for s in load_scripts() if s.split == "tuning"]
    rows = [{"script": s, "source": source} for s in scripts for source in ("written", "phone", "loss5")]
    folds_of = fold_of([r["script"] for r in rows])
    assert fold_of(list(reversed(scripts))) == folds_of  # the order the rows come in does not matter
    assert set(folds_of) == set(scripts) and set(folds_of.values()) == set(range(FOLDS))
    sizes = Counter(folds_of.values())
    assert max(sizes.values()) - min(sizes.values()) <= 1
    for fold in range(FOLDS):
        learnt = {r["script"] for r in training_rows(rows, folds_of, fold)}
        read = {s for s, f in folds_of.items() if f == fold}
        assert read and not learnt & read and learnt | read == set(scripts)
