"""The transcription step's result: the words a caller said, with times and confidences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


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
        return cls(**{f.name: data[f.name] for f in fields(cls)})


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transcript:
        values = {f.name: data[f.name] for f in fields(cls)}
        values["words"] = [Word.from_dict(w) for w in data["words"]]
        return cls(**values)
