"""The audit statistics against well-kept implementations and known values."""

from __future__ import annotations

import math
import warnings

import jiwer
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, precision_score, recall_score

from core.quality import agreement, cohen_kappa, wilson, word_error_rate

LABELS = ["calm", "angry", "prank"]
label_pairs = st.lists(st.tuples(st.sampled_from(LABELS), st.sampled_from(LABELS)), min_size=1, max_size=40)


def test_wilson_matches_known_values():
    # Newcombe (1998), example: 1 of 29 -> 0.0061 .. 0.1718; 0 of 10 -> 0 .. 0.2775
    one = wilson(1, 29)
    assert (round(one.low, 4), round(one.high, 4)) == (0.0061, 0.1718)
    zero = wilson(0, 10)
    assert zero.value == 0.0 and zero.low == 0.0 and zero.high == pytest.approx(0.2775, abs=1e-4)
    assert wilson(0, 0).value is None


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_holds_its_estimate(hits, total):
    hits = min(hits, total)
    rate = wilson(hits, total)
    assert 0.0 <= rate.low <= rate.value <= rate.high <= 1.0


@given(label_pairs)
def test_kappa_matches_scikit_learn(pairs):
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    ours = cohen_kappa(first, second)
    if len(set(first) | set(second)) == 1:
        assert ours == 1.0  # both raters said one and the same label throughout
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = cohen_kappa_score(first, second)
    if math.isnan(theirs):
        assert ours is None
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@given(label_pairs)
def test_precision_and_recall_match_scikit_learn(pairs):
    truth, predicted = [a for a, _ in pairs], [b for _, b in pairs]
    for row in agreement(truth, predicted, LABELS):
        if row.precision is not None:
            assert row.precision == pytest.approx(precision_score(truth, predicted, labels=[row.label], average="micro"))
        if row.recall is not None:
            assert row.recall == pytest.approx(recall_score(truth, predicted, labels=[row.label], average="micro"))


@pytest.mark.parametrize("reference, hypothesis", [
    ("help my father is not breathing", "help my father is not breathing"),
    ("help my father is not breathing please", "help my father is breathing"),
    ("this place is on fire", "this place is a fire please"),
    ("Kids are talking by the door.", "kids are talking by the door"),
])
def test_word_error_rate_matches_jiwer(reference, hypothesis):
    clean = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                           jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    expected = jiwer.wer(reference, hypothesis, reference_transform=clean, hypothesis_transform=clean)
    assert word_error_rate([reference], [hypothesis]) == pytest.approx(expected)
