"""The transcription step's result: the words a caller said, with times and confidences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from core.contracts import ADDED_LATER, field_values


@dataclass(frozen=True)
class Word:
    word: str
    start: float  # seconds from the start of the call
    end: float
    confidence: float  # 0..1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Word:
        return cls(**field_values(cls, data))


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word] = field(default_factory=list)
    language: str = "en"
    engine: str = ""
    model: str = ""
    seconds: float = 0.0  # processing time
    real_time_factor: float = 0.0  # processing time / audio duration
    audio_seconds: float = 0.0
    # sha256 of the engine's model weights, where the engine can tell
    model_checksum: str = field(default="", metadata=ADDED_LATER)
    # why better engines were not used (missing model, a failure), if any
    fallback: str = field(default="", metadata=ADDED_LATER)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transcript:
        values = field_values(cls, data)
        values["words"] = [Word.from_dict(w) for w in data["words"]]
        return cls(**values)
