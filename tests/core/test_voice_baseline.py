"""A voice model's baseline of its deployment's calls: exact running moments, a window of the last
few hundred calls, the training data standing in until then, and the training side's standardisation
by domain in which a judged clip never standardises itself."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.emotion.encoder_model import EncoderHead, fit_head
from core.emotion.encoder_training import by_domain
from core.emotion.voice_baseline import PRIOR_CALLS, WINDOW_CALLS, VoiceBaseline, standardising_moments


def _learn(rows: np.ndarray, baseline: VoiceBaseline | None = None) -> VoiceBaseline:
    for row in rows:
        baseline = VoiceBaseline.first(row) if baseline is None else baseline.learnt(row)
    assert baseline is not None
    return baseline


def test_up_to_the_window_the_baseline_is_the_exact_mean_and_variance():
    rows = np.random.default_rng(0).normal(2.0, 3.0, (WINDOW_CALLS, 5))
    baseline = _learn(rows)
    assert baseline.calls == WINDOW_CALLS
    assert np.allclose(baseline.mean, rows.mean(axis=0)) and np.allclose(baseline.var, rows.var(axis=0))


def test_after_the_window_old_calls_fade_out():
    rng = np.random.default_rng(1)
    first = _learn(rng.normal(0.0, 1.0, (WINDOW_CALLS, 4)))
    moved = _learn(rng.normal(5.0, 1.0, (3 * WINDOW_CALLS, 4)), first)
    assert moved.calls == 4 * WINDOW_CALLS
    assert np.all(np.abs(moved.mean - 5.0) < 0.4), moved.mean  # a plain running mean would sit near 3.75
    assert np.all(moved.var < 3.0)  # a plain running variance would be near 5.7


def test_the_training_data_stands_in_until_calls_come_then_fades_out():
    prior_mean, prior_scale = np.zeros(3), np.ones(3)
    assert standardising_moments(None, prior_mean, prior_scale) == (prior_mean, prior_scale)
    half = VoiceBaseline(WINDOW_CALLS // 2, np.full(3, 4.0), np.full(3, 9.0))
    mean, scale = standardising_moments(half, prior_mean, prior_scale)
    weight = (WINDOW_CALLS // 2) / (WINDOW_CALLS // 2 + PRIOR_CALLS / 2)  # the prior half faded
    assert np.allclose(mean, 4.0 * weight) and np.allclose(scale**2, 9.0 * weight + 1.0 - weight, atol=1e-4)
    full = VoiceBaseline(WINDOW_CALLS, np.full(3, 4.0), np.full(3, 9.0))
    mean, scale = standardising_moments(full, prior_mean, prior_scale)
    assert np.allclose(mean, 4.0) and np.allclose(scale, 3.0)
    with pytest.raises(ValueError, match="another embedding"):
        standardising_moments(full, np.zeros(4), np.ones(4))


def test_the_baseline_is_stored_as_numbers_and_refuses_another_shape():
    baseline = _learn(np.random.default_rng(2).normal(size=(7, 6)))
    again = VoiceBaseline.from_bytes(baseline.calls, baseline.to_bytes())
    assert again.calls == 7 and np.array_equal(again.mean, baseline.mean) and np.array_equal(again.var, baseline.var)
    with pytest.raises(ValueError, match="does not fit"):
        baseline.learnt(np.zeros(5))


def test_a_head_that_adapts_reads_a_shifted_deployment_as_it_read_its_training():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(0, 1, (80, 6)), rng.normal(2, 1, (80, 6))])
    y = np.array([0] * 80 + [1] * 80)
    head = fit_head((x - x.mean(0)) / x.std(0), y, ["calm", "fearful"], [0], c=1.0).with_prior(x)
    again = EncoderHead.from_dict(json.loads(json.dumps(head.to_dict())))
    assert again.adapts and np.allclose(again.prior_mean, x.mean(0))
    shifted = x * 0.5 + 10.0  # another line and microphone: every dimension moved and shrunk
    unadapted = head.probabilities(head.adapted(shifted, None)).argmax(axis=1)
    calls = shifted[np.random.default_rng(5).permutation(len(shifted))]
    adapted = head.probabilities(head.adapted(shifted, _learn(np.tile(calls, (2, 1))))).argmax(axis=1)
    assert (unadapted == y).mean() == 0.5  # the training's statistics alone: every call looks fearful
    assert (adapted == y).mean() > 0.9  # after a window of this deployment's calls


def test_by_domain_standardises_each_copy_by_its_own_clips_and_a_judged_clip_never_by_itself():
    rng = np.random.default_rng(4)
    emb = np.stack([rng.normal(0, 1, (30, 2, 3)), rng.normal(7, 3, (30, 2, 3))], axis=1)  # (clips, copies, layers, dims)
    ids = np.arange(5, 25)
    pooled = by_domain(emb, ids)
    assert pooled.shape == (20, 2, 2, 3)
    assert np.allclose(pooled.mean(axis=0), 0, atol=1e-5) and np.allclose(pooled.std(axis=0), 1, atol=1e-3)
    judged = by_domain(emb, ids, leave_one_out=True)
    others = emb[ids[1:], 1]
    expected = (emb[ids[0], 1] - others.mean(axis=0)) / (others.std(axis=0) + 1e-6)
    assert np.allclose(judged[0, 1], expected, atol=1e-4)
    emb2 = emb.copy()
    emb2[ids[0]] += 100.0  # the clip's own value moves only its own row, not how it is standardised
    assert np.allclose(by_domain(emb2, ids, leave_one_out=True)[0] - judged[0],
                       100.0 / (emb[ids[1:]].std(axis=0) + 1e-6), atol=1e-3)
