"""The media-stream protocols, as pure parsing: what a message means, or why it is refused.

Three shapes reach ``/ws/live/stream/`` (the consumer moves bytes; this module decides):

* the portal's own: ``{"event": "start", "call_id", "caller_number", "language", "location",
  "encoding": "mulaw"|"l16", "sample_rate": 8000|16000}``, binary audio frames, ``{"event": "stop"}``;
* Twilio-style media streams: ``{"event": "connected"}`` (ignored), ``{"event": "start", "start":
  {"callSid", "streamSid", "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000},
  "customParameters": {...}}}``, ``{"event": "media", "media": {"payload": "<base64>"}}``, ``stop``;
* FreeSWITCH mod_audio_fork: a first text message of metadata (no ``event``), then binary L16 frames.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from calls.models import Language

from .models import SAMPLE_RATES, Encoding

# Close codes sent to a client whose stream is refused (4000-4999: the application's own).
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_CONFLICT = 4409
CLOSE_TOO_LARGE = 4413
CLOSE_UNSUPPORTED = 4415

LANGUAGES = tuple(Language.values)
_MEDIA_ENCODINGS = {"mulaw": Encoding.MULAW, "audio/x-mulaw": Encoding.MULAW, "pcmu": Encoding.MULAW,
                    "l16": Encoding.L16, "audio/l16": Encoding.L16, "audio/x-l16": Encoding.L16}


class ProtocolError(Exception):
    """A message the stream cannot take: the close code and a reason the client's log can show."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason[:120]  # a close frame's reason is at most 123 bytes


@dataclass(frozen=True)
class StreamStart:
    call_id: str
    encoding: str
    sample_rate: int
    caller_number: str = ""
    language: str = "en-IN"
    location: str = ""
    shape: str = "portal"


@dataclass(frozen=True)
class Message:
    """What one text message asks: ``start`` (with ``start``), ``media`` (with ``audio``), ``stop``, or
    ``ignore`` (events such platforms send that carry nothing for the call: connected, mark, dtmf)."""

    kind: str
    start: StreamStart | None = None
    audio: bytes = b""


def parse_text(content: Any, *, started: bool) -> Message:
    if not isinstance(content, dict):
        raise ProtocolError(CLOSE_BAD_MESSAGE, "Each text message must be a JSON object.")
    event = content.get("event")
    if event is None and not started:
        return Message("start", start=_audio_fork_start(content))
    if event == "start":
        if started:
            raise ProtocolError(CLOSE_BAD_MESSAGE, "The stream has started already.")
        body = content.get("start")
        return Message("start", start=_twilio_start(content, body) if isinstance(body, dict) else _portal_start(content))
    if event == "media":
        if not started:
            raise ProtocolError(CLOSE_BAD_MESSAGE, "Audio before the start message.")
        media = content.get("media")
        if not isinstance(media, dict) or not isinstance(media.get("payload"), str):
            raise ProtocolError(CLOSE_BAD_MESSAGE, "A media message needs media.payload (base64 audio).")
        if media.get("track", "inbound") != "inbound":  # the caller's side only: the other is the call-taker
            return Message("ignore")
        try:
            return Message("media", audio=base64.b64decode(media["payload"], validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError(CLOSE_BAD_MESSAGE, "media.payload is not base64.") from exc
    if event == "stop":
        return Message("stop")
    if isinstance(event, str) and event in ("connected", "mark", "dtmf", "clear"):
        return Message("ignore")
    raise ProtocolError(CLOSE_BAD_MESSAGE, f"Unknown event {str(event)[:40]!r}: expected start, media or stop.")


def max_frame_bytes(start: StreamStart, seconds: float) -> int:
    """The most bytes one frame of this stream may carry: ``seconds`` of its audio."""
    return int(start.sample_rate * seconds) * (1 if start.encoding == Encoding.MULAW else 2)


def check_frame(start: StreamStart, audio: bytes, *, max_seconds: float) -> None:
    if len(audio) > max_frame_bytes(start, max_seconds):
        raise ProtocolError(CLOSE_TOO_LARGE, f"A frame of {len(audio)} bytes is over {max_seconds:g} s of audio.")
    if start.encoding == Encoding.L16 and len(audio) % 2:
        raise ProtocolError(CLOSE_BAD_MESSAGE, "An L16 frame must hold whole 16-bit samples (an even length).")


def _portal_start(content: dict[str, Any]) -> StreamStart:
    return _start(call_id=content.get("call_id"), encoding=content.get("encoding"),
                  sample_rate=content.get("sample_rate"), details=content, shape="portal")


def _twilio_start(content: dict[str, Any], body: dict[str, Any]) -> StreamStart:
    media_format = _object(body.get("mediaFormat"))
    details = _object(body.get("customParameters"))
    call_id = body.get("callSid") or body.get("streamSid") or content.get("streamSid")
    return _start(call_id=call_id, encoding=media_format.get("encoding"),
                  sample_rate=media_format.get("sampleRate"), details=details, shape="twilio")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _audio_fork_start(content: dict[str, Any]) -> StreamStart:
    """mod_audio_fork sends the metadata it was given, then L16 at the rate it was started with."""
    call_id = content.get("call_id") or content.get("callId") or content.get("uuid")
    rate = content.get("sample_rate") or content.get("sampling_rate") or content.get("sampleRate")
    return _start(call_id=call_id, encoding=content.get("encoding", "l16"), sample_rate=rate, details=content,
                  shape="audio_fork")


def _start(*, call_id: Any, encoding: Any, sample_rate: Any, details: dict[str, Any], shape: str) -> StreamStart:
    if not isinstance(call_id, str | int) or not str(call_id).strip() or len(str(call_id)) > 128:
        raise ProtocolError(CLOSE_BAD_MESSAGE, "The start message needs a call_id (at most 128 characters).")
    known = _MEDIA_ENCODINGS.get(str(encoding).lower()) if isinstance(encoding, str) else None
    if known is None:
        raise ProtocolError(CLOSE_UNSUPPORTED, f"Unknown encoding {str(encoding)[:30]!r}: send mulaw or l16.")
    try:
        rate = int(sample_rate)
    except (TypeError, ValueError):
        rate = 0
    if rate not in SAMPLE_RATES or (known == Encoding.MULAW and rate != 8000):
        raise ProtocolError(CLOSE_UNSUPPORTED, f"Sample rate {str(sample_rate)[:12]!r} is not supported: "
                                               "mulaw at 8000, l16 at 8000 or 16000.")
    language = details.get("language") or "en-IN"
    if language not in LANGUAGES:
        raise ProtocolError(CLOSE_BAD_MESSAGE, f"Unknown language {str(language)[:20]!r}: one of {', '.join(LANGUAGES)}.")
    caller = details.get("caller_number") or details.get("callerNumber") or details.get("caller_id") \
        or details.get("from") or ""
    location = details.get("location") or ""
    return StreamStart(call_id=str(call_id).strip(), encoding=known, sample_rate=rate,
                       caller_number=str(caller)[:64], language=str(language), location=str(location)[:500],
                       shape=shape)
