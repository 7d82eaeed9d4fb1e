"""What this deployment's callers sound like to one model version, learnt from its calls, no labels.

A voice model trained on a few dozen actors in one studio reads every other microphone, phone line,
language and crowd of callers as shifted: each embedding dimension sits off the training's centre
and spread, and the head's verdicts shift with it. A version that adapts (its head was trained on
embeddings standardised corpus by corpus and channel by channel, see
:mod:`core.emotion.encoder_training`) standardises each call by the running mean and spread of this
deployment's own recent calls instead: about the last :data:`WINDOW_CALLS` (older calls fade out).
Until there are enough calls the training data's own statistics stand in, weighted as
:data:`PRIOR_CALLS` calls at first and fading out as the window fills, so a new deployment starts
where the model was measured and moves to its own callers as they come. Plain Python, no Django.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

WINDOW_CALLS = 300  # "the last few hundred calls": each new call weighs at least 1/300
PRIOR_CALLS = 100  # the training data's statistics count as this many calls before the first
_MIN_SCALE = 1e-6


@dataclass(frozen=True)
class VoiceBaseline:
    """Running mean and variance of one version's embeddings over this deployment's calls."""

    calls: int  # calls learnt from (stops counting the weight at WINDOW_CALLS)
    mean: np.ndarray
    var: np.ndarray

    @classmethod
    def first(cls, embedding: np.ndarray) -> VoiceBaseline:
        return cls(1, np.asarray(embedding, np.float64).copy(), np.zeros(np.shape(embedding)))

    def learnt(self, embedding: np.ndarray) -> VoiceBaseline:
        """The baseline after one more call: exact mean and variance up to WINDOW_CALLS calls, then
        an exponentially weighted window of that length."""
        x = np.asarray(embedding, np.float64)
        if x.shape != self.mean.shape:
            raise ValueError(f"an embedding of shape {x.shape} does not fit a baseline of {self.mean.shape}")
        weight = 1.0 / min(self.calls + 1, WINDOW_CALLS)
        delta = x - self.mean
        return VoiceBaseline(self.calls + 1, self.mean + weight * delta,
                             (1.0 - weight) * (self.var + weight * delta * delta))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, np.stack([self.mean, self.var]), allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, calls: int, data: bytes) -> VoiceBaseline:
        moments = np.load(io.BytesIO(data), allow_pickle=False)
        if moments.ndim != 2 or moments.shape[0] != 2:
            raise ValueError("a voice baseline's stored moments are not two rows")
        return cls(int(calls), moments[0].astype(np.float64), moments[1].astype(np.float64))


def standardising_moments(baseline: VoiceBaseline | None, prior_mean: np.ndarray,
                          prior_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, scale) to standardise a call by. The training data's statistics alone before the first
    call; then each of mean and variance shrunk towards the training's, the training counting as
    PRIOR_CALLS calls at first and fading out as the deployment's calls fill the window; the
    deployment's own from WINDOW_CALLS calls on."""
    if baseline is None or baseline.calls == 0:
        return prior_mean, prior_scale
    if baseline.mean.shape != prior_mean.shape:
        raise ValueError("the voice baseline was learnt for another embedding than this head's")
    n = float(min(baseline.calls, WINDOW_CALLS))
    k = PRIOR_CALLS * (1.0 - n / WINDOW_CALLS)
    mean = (n * baseline.mean + k * prior_mean) / (n + k)
    var = (n * baseline.var + k * prior_scale**2) / (n + k)
    return mean, np.sqrt(var) + _MIN_SCALE
