"""An emotion model on frozen Whisper-encoder features: pooled hidden states, a linear head.

A clip is prepared as for the CNN (silence trimmed, loudness normalised:
:func:`core.emotion.features.prepare`), run through the Whisper tiny.en encoder
(:mod:`core.emotion.whisper_encoder`), and each chosen layer's states are pooled over the frames
that cover the clip (mean and standard deviation). A multinomial logistic regression, stored as
plain numbers (``head.json``), turns that embedding into one probability per label; no
TensorFlow is needed. The head also keeps where its training embeddings lay, so that a voice
unlike anything it was trained on can be told apart (:meth:`EncoderHead.unfamiliarity`).
Plain Python, no Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.emotion.features import DEFAULT_CONFIG, FeatureConfig, FeatureError, prepare
from core.emotion.voice_baseline import VoiceBaseline, standardising_moments
from core.emotion.whisper_encoder import WhisperEncoder

MIN_SAMPLES = 1600  # 0.1 s: shorter than this the encoder sees almost nothing


def embed_layers(encoder: WhisperEncoder, samples: np.ndarray,
                 config: FeatureConfig = DEFAULT_CONFIG, n_layers: int | None = None) -> np.ndarray:
    """(layers, 2 * width): mean and standard deviation over time of every encoder layer (of the first
    `n_layers`, when told)."""
    prepared = prepare(samples, config)
    if prepared.size < MIN_SAMPLES:
        prepared = np.pad(prepared, (0, MIN_SAMPLES - prepared.size))
    states = encoder.hidden_states(prepared, n_layers)
    return np.stack([np.concatenate([s.mean(axis=0), s.std(axis=0)]) for s in states]).astype(np.float32)


def select_layers(layer_embeddings: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """The embedding a head reads: the chosen layers' pooled states side by side.

    Works on one clip (layers, dims) or many (clips, layers, dims).
    """
    chosen = np.take(layer_embeddings, list(layers), axis=-2)
    return chosen.reshape(*chosen.shape[:-2], -1)


@dataclass(frozen=True)
class EncoderHead:
    """Standardisation, then a multinomial logistic regression; plus the training embeddings'
    spread, for telling familiar voices from unfamiliar ones."""

    labels: list[str]
    layers: list[int]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (labels, dims)
    intercept: np.ndarray  # (labels,)
    familiar_distance: float  # the 99th percentile of training clips' unfamiliarity
    # A head that adapts to its deployment was trained on embeddings standardised corpus by corpus
    # and channel by channel; a call is first standardised by the deployment's recent calls
    # (core.emotion.voice_baseline), with these, the training clips' own, standing in until then.
    prior_mean: np.ndarray | None = None
    prior_scale: np.ndarray | None = None

    @property
    def adapts(self) -> bool:
        return self.prior_mean is not None

    def adapted(self, embedding: np.ndarray, baseline: VoiceBaseline | None) -> np.ndarray:
        """The embedding this head reads: as it is, or standardised to the deployment."""
        if self.prior_mean is None or self.prior_scale is None:
            return embedding
        mean, scale = standardising_moments(baseline, self.prior_mean, self.prior_scale)
        return np.asarray((embedding - mean) / scale, dtype=np.float64)

    def with_prior(self, raw_embeddings: np.ndarray) -> EncoderHead:
        """This head, adapting, with the raw training embeddings' statistics as its prior."""
        return replace(self, prior_mean=raw_embeddings.mean(axis=0),
                       prior_scale=raw_embeddings.std(axis=0) + 1e-6)

    def standardise(self, embedding: np.ndarray) -> np.ndarray:
        return np.asarray((embedding - self.mean) / self.scale, dtype=np.float64)

    def probabilities(self, embedding: np.ndarray) -> np.ndarray:
        """One row of probabilities per embedding row (or one vector for one embedding)."""
        z = self.standardise(embedding) @ self.coef.T + self.intercept
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=-1, keepdims=True), dtype=np.float64)

    def unfamiliarity(self, embedding: np.ndarray) -> float:
        """Root-mean-square of the standardised embedding: about 1 for a typical training clip."""
        return float(np.sqrt(np.mean(np.square(self.standardise(embedding)))))

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": "logistic_regression", "labels": list(self.labels), "layers": list(self.layers),
               "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
               "intercept": self.intercept.tolist(), "familiar_distance": self.familiar_distance}
        if self.prior_mean is not None and self.prior_scale is not None:
            out["adapts"] = {"prior_mean": self.prior_mean.tolist(), "prior_scale": self.prior_scale.tolist()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EncoderHead:
        head = cls(labels=list(data["labels"]), layers=[int(i) for i in data["layers"]],
                   mean=np.asarray(data["mean"], float), scale=np.asarray(data["scale"], float),
                   coef=np.asarray(data["coef"], float), intercept=np.asarray(data["intercept"], float),
                   familiar_distance=float(data["familiar_distance"]))
        if "adapts" in data:
            head = replace(head, prior_mean=np.asarray(data["adapts"]["prior_mean"], float),
                           prior_scale=np.asarray(data["adapts"]["prior_scale"], float))
        dims = head.mean.shape
        priors = [p for p in (head.prior_mean, head.prior_scale) if p is not None]
        if any(p.shape != dims for p in priors):
            raise FeatureError("the emotion head's deployment prior does not fit its embedding")
        if head.scale.shape != dims or head.coef.shape != (len(head.labels), *dims) \
                or head.intercept.shape != (len(head.labels),):
            raise FeatureError("the emotion head's numbers do not fit together")
        return head


def fit_head(x: np.ndarray, y: np.ndarray, labels: list[str], layers: list[int], c: float,
             sample_weight: np.ndarray | None = None) -> EncoderHead:
    """Train the head on embeddings x (clips, dims) with label indices y."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = (x - mean) / scale
    model = LogisticRegression(C=c, max_iter=3000).fit(xs, y, sample_weight=sample_weight)
    coef = np.zeros((len(labels), x.shape[1]))
    intercept = np.full(len(labels), -1e3)  # a label absent from training is never predicted
    if len(model.classes_) == 2:  # sklearn keeps one row for two classes: logit of the second
        coef[model.classes_[1]], intercept[model.classes_[0]] = model.coef_[0], 0.0
        intercept[model.classes_[1]] = model.intercept_[0]
    else:
        coef[model.classes_] = model.coef_
        intercept[model.classes_] = model.intercept_
    distances = np.sqrt(np.mean(np.square(xs), axis=1))
    return EncoderHead(labels, layers, mean, scale, coef, intercept, float(np.percentile(distances, 99)))
