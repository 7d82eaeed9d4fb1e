"""What a stored recording is called and served as: decided by the decoded format, never by the
client's file name or Content-Type.

A file can be valid MP3 *and* valid JavaScript or HTML at once (FFmpeg skips leading junk). Kept
under the client's ``call.js`` and served with a type guessed from that name, it ran as a script
from the portal's own origin. So the stored name's extension and the served MIME type both come
from FFmpeg's container name alone, from this one table; anything not in it is plain bytes.
"""

from __future__ import annotations

from typing import NamedTuple

from django.http.response import HttpResponseBase


class MediaType(NamedTuple):
    extension: str
    mime: str


# FFmpeg's demuxer name (``container.format.name``) -> how the file is stored and served. Some
# demuxers answer to several names at once ("matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2"): any one
# of those names picks the row.
FORMATS: dict[str, MediaType] = {
    "wav": MediaType(".wav", "audio/wav"),
    "mp3": MediaType(".mp3", "audio/mpeg"),
    "ogg": MediaType(".ogg", "audio/ogg"),
    "matroska": MediaType(".webm", "audio/webm"),
    "webm": MediaType(".webm", "audio/webm"),
    "flac": MediaType(".flac", "audio/flac"),
    "mov": MediaType(".m4a", "audio/mp4"),
    "mp4": MediaType(".m4a", "audio/mp4"),
    "m4a": MediaType(".m4a", "audio/mp4"),
}
UNKNOWN = MediaType(".bin", "application/octet-stream")

# The same types by stored extension, for files whose format was not recorded (dataset clips):
# only extensions of the table; any other extension is plain bytes.
BY_EXTENSION: dict[str, MediaType] = {row.extension: row for row in FORMATS.values()}

# Every stored-media response: never sniffed into another type, and if a browser ever renders one
# as a document anyway, it is sandboxed (an opaque origin: no script, no forms, no top navigation)
# and may load nothing.
SANDBOX_POLICY = "sandbox; default-src 'none'"


def media_type_of(source_format: str) -> MediaType:
    """The row for a decoded container format (``DecodedAudio.source_format``)."""
    for name in (source_format or "").lower().split(","):
        row = FORMATS.get(name.strip())
        if row is not None:
            return row
    return UNKNOWN


def media_type_of_extension(suffix: str) -> MediaType:
    """The row for a stored file's extension (".mp3"); unknown extensions are plain bytes."""
    return BY_EXTENSION.get(suffix.lower(), UNKNOWN)


def harden_media_response(response: HttpResponseBase) -> HttpResponseBase:
    """Headers for a response carrying a stored file. The CSP set here is left alone by django-csp's
    middleware (it only adds a policy where the response has none)."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    return response
