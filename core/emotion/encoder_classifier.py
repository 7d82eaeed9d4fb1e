"""The Whisper-encoder emotion classifier: pooled encoder states, a linear head, no TensorFlow.

The version folder holds ``head.json`` (:class:`core.emotion.encoder_model.EncoderHead`) and,
optionally, ``gender.json`` (a logistic regression on the same embedding); its metadata names the
Whisper model (by sha256) whose encoder the head was trained on, and loading refuses any other.
Plain Python: no Django.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from core.emotion.encoder_model import EncoderHead, embed_layers, select_layers
from core.emotion.features import FeatureConfig, FeatureError
from core.emotion.gender import GENDER_FILE, GenderModel, estimate_from_p_female
from core.emotion.model_version import (
    FLAT_ENTROPY,
    SAMPLE_RATE,
    ModelError,
    artefact_file,
    flatness,
    read_metadata,
)
from core.emotion.prediction import EmotionPrediction
from core.emotion.voice_baseline import VoiceBaseline
from core.emotion.whisper_encoder import TINY_EN, EncoderError, load_named_encoder
from core.speech.errors import TranscriptionError


class EncoderClassifier:
    """A loaded, checked encoder-head model version."""

    def __init__(self, model_dir: str | Path) -> None:
        self.model_dir = Path(model_dir).resolve()
        meta = read_metadata(self.model_dir)
        self.metadata = meta
        self.version: str = meta["version"]
        self.labels: list[str] = list(meta["labels"])
        self.config = FeatureConfig.from_dict(meta["feature_config"])
        head_path = artefact_file(self.model_dir, meta)
        try:
            self.head = EncoderHead.from_dict(json.loads(head_path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, FeatureError) as exc:
            raise ModelError(f"Emotion model head {head_path} is unreadable ({exc})") from exc
        if self.head.labels != self.labels:
            raise ModelError("Emotion model head's labels differ from its metadata's.")
        encoder_meta = meta.get("encoder", {})
        try:  # versions from before base was tried name no model: they were all trained on tiny.en
            self.encoder = load_named_encoder(encoder_meta.get("model") or TINY_EN)
        except (EncoderError, TranscriptionError) as exc:
            raise ModelError(f"The Whisper encoder this model needs cannot be loaded: {exc}") from exc
        # only the blocks up to the last layer the head reads are run
        self.n_layers = max(self.head.layers) + 1
        wanted = encoder_meta.get("model_sha256")
        if wanted != self.encoder.model_checksum:
            raise ModelError("This emotion model was trained on another Whisper model than the one installed.")
        self.gender = self._gender_model()
        self.classify(np.random.default_rng(0).standard_normal(SAMPLE_RATE // 2).astype(np.float32) * 0.1)

    def _gender_model(self) -> GenderModel | None:
        path = self.model_dir / GENDER_FILE
        if not path.is_file():
            return None
        try:
            return GenderModel.from_dict(json.loads(path.read_text(encoding="utf-8")), self.head.mean.shape[0] // 2)
        except (ValueError, KeyError) as exc:
            raise ModelError(f"Voice-gender model {path} does not fit this version ({exc})") from exc

    def embedding(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        if sample_rate != SAMPLE_RATE:
            raise FeatureError(f"Audio must be resampled to {SAMPLE_RATE} Hz first (got {sample_rate} Hz).")
        return select_layers(embed_layers(self.encoder, samples, self.config, self.n_layers), self.head.layers)

    @property
    def adapts(self) -> bool:
        """Whether this version standardises each call by the deployment's recent calls."""
        return self.head.adapts

    def classify(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE, *,
                 baseline: VoiceBaseline | None = None) -> EmotionPrediction:
        return self.read(samples, sample_rate, baseline=baseline)[0]

    def read(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE, *,
             baseline: VoiceBaseline | None = None) -> tuple[EmotionPrediction, np.ndarray]:
        """The prediction and the raw embedding (what a version that adapts learns its deployment's
        baseline from); `baseline` is that deployment's, for a version that adapts."""
        start = time.perf_counter()
        embedding = self.embedding(samples, sample_rate)
        adapted = self.head.adapted(embedding, baseline)
        probs = self.head.probabilities(adapted)
        unfamiliarity = self.head.unfamiliarity(adapted)
        gender = estimate_from_p_female(self.gender.p_female(embedding)) if self.gender is not None else None
        prediction = EmotionPrediction(
            label=self.labels[int(np.argmax(probs))],
            probabilities={lab: float(p) for lab, p in zip(self.labels, probs, strict=True)},
            model_version=self.version,
            seconds=round(time.perf_counter() - start, 6),
            gender=gender,
            unfamiliar=unfamiliarity > self.head.familiar_distance or flatness(probs) >= FLAT_ENTROPY,
            unfamiliarity=round(unfamiliarity, 3),
            baseline_calls=(baseline.calls if baseline is not None else 0) if self.adapts else None,
        )
        return prediction, embedding
