"""A live call's audio as it grows: 16-bit little-endian PCM appended to a file in MEDIA_ROOT.

Appending needs a local file (the storage API has no append): the ingress processes write to the
media volume they share with the web servers. At hang-up the file becomes an ordinary Recording
through calls.services.recording_attach, stored through the storage API like any upload.
"""

from __future__ import annotations

import io
import time
import wave
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile


def spool_path(name: str) -> Path:
    return Path(default_storage.path(name))


def spool_create(name: str) -> None:
    path = spool_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def spool_append(name: str, pcm: bytes) -> None:
    with spool_path(name).open("ab") as handle:
        handle.write(pcm)


def spool_read(name: str) -> bytes:
    path = spool_path(name)
    return path.read_bytes() if name and path.exists() else b""


def spool_delete(name: str) -> None:
    if name:
        spool_path(name).unlink(missing_ok=True)


def wav_upload(pcm: bytes, *, sample_rate: int, name: str) -> SimpleUploadedFile:
    """The PCM as a mono 16-bit WAV file, the samples unchanged, as an upload for recording_attach."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="audio/wav")


class SpoolBuffer:
    """What arrived since the last write to disk; ``due()`` once ``flush_seconds`` have passed, so a
    crashed process loses at most that much, and a dropped connection nothing (it flushes on close)."""

    def __init__(self, *, flush_seconds: float) -> None:
        self.flush_seconds = flush_seconds
        self.pcm = bytearray()
        self.frames = 0
        self.received = 0
        self.last_flush = time.monotonic()

    def add(self, pcm: bytes, *, received: int) -> None:
        self.pcm += pcm
        self.frames += 1
        self.received += received

    def due(self) -> bool:
        return bool(self.frames) and time.monotonic() - self.last_flush >= self.flush_seconds

    def take(self) -> tuple[bytes, int, int]:
        """(pcm, frames, bytes received) since the last take; the buffer starts again empty."""
        taken = (bytes(self.pcm), self.frames, self.received)
        self.pcm, self.frames, self.received = bytearray(), 0, 0
        self.last_flush = time.monotonic()
        return taken
