"""Turning an uploaded file into a stored Recording: validate, decode once, keep both copies."""

from __future__ import annotations

import io
import logging
from typing import Any, cast

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from core import audio

from .media_types import media_type_of
from .models import Case, Recording

logger = logging.getLogger(__name__)


class AudioRejected(Exception):
    """The upload cannot be used; the message says why, in words an operator understands.
    ``silent``: the recording held only silence (a caller who may be unable to speak)."""

    def __init__(self, message: str, *, silent: bool = False) -> None:
        super().__init__(message)
        self.silent = silent


def max_upload_bytes() -> int:
    return settings.MAX_UPLOAD_MB * 1024 * 1024


def check_upload_size(upload: UploadedFile) -> None:
    if not upload.size:
        raise AudioRejected("The audio file is empty.")
    if upload.size > max_upload_bytes():
        raise AudioRejected(
            f"The audio file is {upload.size / 1024 / 1024:.1f} MB; "
            f"the limit is {settings.MAX_UPLOAD_MB} MB."
        )


def decode_upload(upload: UploadedFile) -> audio.DecodedAudio:
    check_upload_size(upload)
    try:
        source = upload.temporary_file_path()  # type: ignore[attr-defined]  # TemporaryUploadedFile only
    except AttributeError:
        upload.seek(0)
        source = upload.file
    try:
        decoded = audio.decode(source, max_seconds=settings.MAX_AUDIO_SECONDS)
    except audio.AudioError as exc:
        raise AudioRejected(str(exc)) from exc
    finally:
        upload.seek(0)
    if audio.is_silent(decoded.samples):
        raise AudioRejected("The recording contains only silence.", silent=True)
    if decoded.duration_s < settings.MIN_AUDIO_SECONDS:
        # Refused rather than analysed: a fraction of a second gives the emotion model nothing to
        # judge, and it would still answer (once "sad 0.40"). The case keeps its safe priority.
        raise AudioRejected(
            f"The recording is {decoded.duration_s:.2f} s long: too short to judge the caller's voice "
            f"(at least {settings.MIN_AUDIO_SECONDS:g} s is needed)."
        )
    return decoded


def recording_prepare(*, case: Case, upload: UploadedFile, uploaded_by: Any, source: str) -> Recording:
    """Decode the upload and write both files; the Recording row is left for the caller to save.

    Raises AudioRejected for unusable audio; then nothing is written.
    """
    decoded = decode_upload(upload)
    wav = io.BytesIO()
    audio.write_wav(wav, decoded.samples, decoded.sample_rate)
    recording = Recording(
        case=case,
        original_name=(upload.name or "recording")[-255:],
        source=source,
        source_format=decoded.source_format[:64],
        size_bytes=cast(int, upload.size),  # not None: check_upload_size passed
        sha256=audio.sha256_of(upload),
        duration_s=decoded.duration_s,
        sample_rate=decoded.source_sample_rate,
        channels=decoded.source_channels,
        uploaded_by=uploaded_by,
    )
    try:
        # The stored name (and later the served type) is the decoded format's, never the client's:
        # original_name keeps what the client called it, for display only.
        extension = media_type_of(recording.source_format).extension
        recording.original.save(f"original{extension}", upload, save=False)
        recording.normalised.save("normalised.wav", ContentFile(wav.getvalue()), save=False)
    except Exception:
        recording_files_delete(recording)
        raise
    return recording


def recording_files_delete(recording: Recording) -> None:
    """Remove the files of a recording whose row was never saved."""
    for field in (recording.original, recording.normalised):
        if field.name:
            field.storage.delete(field.name)
