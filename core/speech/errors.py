"""What can go wrong when transcribing, in words a caller of the speech package can act on."""

from __future__ import annotations


class TranscriptionUnavailable(RuntimeError):
    """No engine can transcribe this language here; the words are unknown, not harmless."""

    def __init__(self, language: str, detail: str | None = None):
        self.language = language
        message = f"transcription unavailable for {language}"
        super().__init__(f"{message} ({detail})" if detail else message)


class TranscriptionError(RuntimeError):
    """An engine that exists failed on this audio or could not load its model."""
