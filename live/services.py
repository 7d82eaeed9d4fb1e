"""Every change to a live stream goes through one function here: lock the stream, check, change,
append a case event (kind ``live``), broadcast on commit. The ingress (the websocket consumer, the
AudioSocket server) only moves bytes and calls these.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import Role
from calls import broadcast
from calls import services as calls_services
from calls.audio_intake import AudioRejected
from calls.exceptions import CaseActionError, NotAllowed
from calls.models import CaseStatus, RecordingSource
from calls.phone import UNKNOWN_CALLER

from .auth import takes_desk_calls
from .models import OPEN_STATES, Encoding, Ingress, LiveStream, StreamState
from .protocol import CLOSE_BAD_MESSAGE, CLOSE_CONFLICT, CLOSE_UNSUPPORTED, ProtocolError, StreamStart
from .spool import spool_append, spool_create, spool_delete, spool_read, wav_upload

logger = logging.getLogger(__name__)

LIVE_EVENT = "live"  # the case event kind of every stream change (data.state says which)
AUDIOSOCKET_ENCODING, AUDIOSOCKET_RATE = Encoding.L16, 8000  # what Asterisk's AudioSocket sends
DESK_RATE = 16000  # what the desk page's AudioWorklet sends (static/js/desk-capture.js), as L16


def _record(stream: LiveStream, *, reason: str, **data: Any) -> None:
    calls_services.case_event_record(case=stream.case, kind=LIVE_EVENT, actor=stream.client, reason=reason,
                                     state=stream.state, stream=stream.pk, call_id=stream.call_id,
                                     ingress=stream.ingress, **data)
    case_id = stream.case_id
    transaction.on_commit(lambda: broadcast.case_changed(case_id, LIVE_EVENT, state=str(stream.state)))


def _lookup(*, client: Any, call_id: str, ingress: str) -> QuerySet[LiveStream]:
    # An AudioSocket connection carries only the UUID (announced by a client, or not at all).
    if ingress == Ingress.AUDIOSOCKET:
        return LiveStream.objects.filter(ingress=Ingress.AUDIOSOCKET, call_id=call_id)
    return LiveStream.objects.filter(client=client, call_id=call_id)


def stream_open(*, client: Any, start: StreamStart, ingress: str) -> LiveStream:
    """Start a call's stream (the case is created now, with no audio yet), or continue one that was
    interrupted within LIVE_RECONNECT_SECONDS. Raises ProtocolError for a stream that may not (re)start."""
    if client is not None and not client.has_role(Role.INTAKE):
        raise NotAllowed("Only intake clients stream calls in.")
    return _open(client=client, start=start, ingress=ingress)


def desk_stream_open(*, operator: Any, start: StreamStart) -> LiveStream:
    """An operator takes a call at their desk, the browser streaming the headset's microphone: the
    case is created as for a phone system's stream and claimed by that operator in the same
    transaction (the queue never shows it free for another to claim). The same call id again, within
    LIVE_RECONNECT_SECONDS of a drop, continues the same stream, as for a phone system."""
    if not takes_desk_calls(operator):
        raise NotAllowed("Only operators take live calls at their desk.")
    if (start.shape, start.encoding, start.sample_rate) != ("portal", Encoding.L16, DESK_RATE):
        raise ProtocolError(CLOSE_UNSUPPORTED, f"A desk streams the portal's start message and L16 at {DESK_RATE} Hz.")
    return _open(client=operator, start=start, ingress=Ingress.DESK, claim_for=operator)


def _open(*, client: Any, start: StreamStart, ingress: str, claim_for: Any = None) -> LiveStream:
    _cut_off_if_expired(_lookup(client=client, call_id=start.call_id, ingress=ingress))
    try:
        with transaction.atomic():
            existing = _lookup(client=client, call_id=start.call_id, ingress=ingress).select_for_update().first()
            if existing is None:
                stream = _stream_new(client=client, start=start, ingress=ingress)
            else:
                _check_reopen(existing, start)
                resumed = existing.state == StreamState.INTERRUPTED
                if not resumed:  # announced: the format is the stream's own from now on
                    existing.encoding, existing.sample_rate = start.encoding, start.sample_rate
                    existing.ingress, existing.started_at = ingress, timezone.now()
                existing.state, existing.interrupted_at = StreamState.STREAMING, None
                existing.save()
                _record(existing, reason="Stream resumed after a drop: the audio continues." if resumed
                        else f"Live audio started ({_format(existing)}).")
                stream = existing
            if claim_for is not None:
                _claim_at_desk(stream, claim_for)
            return stream
    except IntegrityError as exc:  # the same new call id opened twice at once: one wins
        raise ProtocolError(CLOSE_CONFLICT, f"Call {start.call_id!r} is streaming already.") from exc


def _claim_at_desk(stream: LiveStream, operator: Any) -> None:
    """The operator with the caller on the headset handles the case. A reconnect finds it claimed by
    them already; released meanwhile, they claim it again; reassigned by a supervisor during the drop,
    it stays with whoever has it now (the audio still goes on: the caller is still on this headset)."""
    case = calls_services.case_lock(stream.case)
    if case.status == CaseStatus.OPEN:
        calls_services.case_claim(case=case, operator=operator)
    elif case.claimed_by_id != operator.pk:
        _record(stream, reason=f"The desk's stream goes on; the case stays claimed by {case.claimed_by}.")
    stream.case.refresh_from_db()


def _cut_off_if_expired(streams: QuerySet[LiveStream]) -> None:
    """A stream past its reconnect window is cut off (its audio attached) before anything else: a late
    reconnect is refused, never appended to a recording that is already the case's."""
    window = timedelta(seconds=settings.LIVE_RECONNECT_SECONDS)
    late = streams.filter(state=StreamState.INTERRUPTED, interrupted_at__lte=timezone.now() - window)
    for stream_id in late.values_list("pk", flat=True):
        stream_finish(stream_id=stream_id, state=StreamState.CUT_OFF,
                      reason=f"Cut off: no reconnect within {settings.LIVE_RECONNECT_SECONDS:g} s.")


def _check_reopen(stream: LiveStream, start: StreamStart) -> None:
    if stream.case.status == CaseStatus.CLOSED:
        raise ProtocolError(CLOSE_CONFLICT, f"Case #{stream.case_id} is closed: its call cannot stream again.")
    if stream.state == StreamState.STREAMING:
        raise ProtocolError(CLOSE_CONFLICT, f"Call {stream.call_id!r} is streaming already.")
    if stream.state not in OPEN_STATES:
        raise ProtocolError(CLOSE_CONFLICT, f"Call {stream.call_id!r} has ended: its audio is case "
                                            f"#{stream.case_id}'s recording.")
    if stream.state == StreamState.INTERRUPTED and (stream.encoding, stream.sample_rate) != (
            start.encoding, start.sample_rate):
        raise ProtocolError(CLOSE_UNSUPPORTED, f"A resumed stream keeps its format ({_format(stream)}).")


def _stream_new(*, client: Any, start: StreamStart, ingress: str, state: str = StreamState.STREAMING) -> LiveStream:
    try:
        case = calls_services.case_create(created_by=client, caller_number=start.caller_number or UNKNOWN_CALLER,
                                          language=start.language, location=start.location).case
    except ValidationError as exc:
        raise ProtocolError(CLOSE_BAD_MESSAGE, "; ".join(exc.messages)) from exc
    stream = LiveStream.objects.create(
        call_id=start.call_id, case=case, client=client, ingress=ingress, encoding=start.encoding,
        sample_rate=start.sample_rate, state=state, audio_name=f"live/{case.pk}/{uuid.uuid4().hex}.pcm")
    spool_create(stream.audio_name)
    _record(stream, reason=f"Call announced: waiting for its audio ({_format(stream)})." if state == StreamState.ANNOUNCED
            else f"Live audio started ({_format(stream)}).")
    return stream


def _format(stream: LiveStream) -> str:
    return f"{stream.get_ingress_display()}, {stream.get_encoding_display()} at {stream.sample_rate} Hz"


def stream_write(*, stream_id: int, audio_name: str, pcm: bytes, frames: int, received: int) -> None:
    """Append audio that arrived (16-bit PCM) and count it; not a state change, so no case event."""
    if pcm:
        spool_append(audio_name, pcm)
    LiveStream.objects.filter(pk=stream_id).update(frames=F("frames") + frames,
                                                   bytes_received=F("bytes_received") + received)


def stream_interrupt(*, stream_id: int, reason: str) -> LiveStream:
    """The connection dropped without a hang-up: the audio so far is kept and may be continued."""
    with transaction.atomic():
        stream = LiveStream.objects.select_for_update().select_related("case").get(pk=stream_id)
        if stream.state == StreamState.STREAMING:
            stream.state, stream.interrupted_at = StreamState.INTERRUPTED, timezone.now()
            stream.save(update_fields=["state", "interrupted_at"])
            _record(stream, reason=f"Stream dropped ({reason}); it may reconnect within "
                                   f"{settings.LIVE_RECONNECT_SECONDS:g} s.")
    return stream


def stream_finish(*, stream_id: int, state: str = StreamState.ENDED, reason: str = "Hung up.") -> LiveStream:
    """End the call's stream; its audio becomes the case's recording (analysed like an upload).

    Done once, under the stream's lock: a hang-up and the sweep cannot both attach it. Unusable audio
    (silence, too short) is refused by recording_attach, which records why on the case."""
    with transaction.atomic():
        stream = LiveStream.objects.select_for_update().select_related("case", "client").get(pk=stream_id)
        if stream.state not in OPEN_STATES:
            return stream
        stream.state, stream.ended_at = state, timezone.now()
        pcm = spool_read(stream.audio_name)
        attached, why = None, ""
        if pcm:
            try:
                attached = calls_services.recording_attach(
                    case=stream.case, upload=wav_upload(pcm, sample_rate=stream.sample_rate, name=f"live-{stream.pk}.wav"),
                    uploaded_by=stream.client,
                    source=RecordingSource.BROWSER if stream.ingress == Ingress.DESK else RecordingSource.API)
            except AudioRejected as exc:
                why = f" The audio was not kept: {exc}"
            except CaseActionError as exc:  # closed during the call: the audio stays in the spool file
                why = f" The audio was not attached: {exc} It is kept as {stream.audio_name}."
        stream.recording = attached
        stream.save(update_fields=["state", "ended_at", "recording"])
        seconds = len(pcm) / 2 / stream.sample_rate
        _record(stream, reason=f"{reason} {seconds:.1f} s of audio.{why}", seconds=round(seconds, 2),
                recording=attached.pk if attached else None)
    if attached is not None or why.startswith(" The audio was not kept"):
        spool_delete(stream.audio_name)
    return stream


def streams_sweep(*, now: datetime | None = None) -> int:
    """Cut off the streams interrupted for longer than LIVE_RECONNECT_SECONDS (their audio so far
    becomes the recording), and end announced calls whose audio never came. Returns how many."""
    now = now or timezone.now()
    window = timedelta(seconds=settings.LIVE_RECONNECT_SECONDS)
    expired = list(LiveStream.objects.filter(state=StreamState.INTERRUPTED, interrupted_at__lte=now - window)
                   .values_list("pk", flat=True))
    for stream_id in expired:
        stream_finish(stream_id=stream_id, state=StreamState.CUT_OFF,
                      reason=f"Cut off: no reconnect within {settings.LIVE_RECONNECT_SECONDS:g} s.")
    silent = list(LiveStream.objects.filter(
        state=StreamState.ANNOUNCED, started_at__lte=now - timedelta(seconds=settings.LIVE_ANNOUNCE_SECONDS))
        .values_list("pk", flat=True))
    for stream_id in silent:
        stream_finish(stream_id=stream_id, reason="Announced, but no audio ever came.")
    return len(expired) + len(silent)


def call_announce(*, client: Any, caller_number: str = "", language: str = "en-IN", location: str = "") -> LiveStream:
    """An intake client announces a call before Asterisk connects it: the case exists now, and the
    returned stream's call_id is the UUID to give AudioSocket."""
    if not client.has_role(Role.INTAKE):
        raise NotAllowed("Only intake clients announce calls.")
    start = StreamStart(call_id=str(uuid.uuid4()), encoding=AUDIOSOCKET_ENCODING, sample_rate=AUDIOSOCKET_RATE,
                        caller_number=caller_number, language=language, location=location)
    with transaction.atomic():
        return _stream_new(client=client, start=start, ingress=Ingress.AUDIOSOCKET, state=StreamState.ANNOUNCED)


def audiosocket_open(*, call_uuid: str) -> LiveStream:
    """An AudioSocket connection named its call: the announced stream, an interrupted one continued,
    or (unknown UUID) a new case with an unknown caller number."""
    start = StreamStart(call_id=call_uuid, encoding=AUDIOSOCKET_ENCODING, sample_rate=AUDIOSOCKET_RATE)
    return stream_open(client=None, start=start, ingress=Ingress.AUDIOSOCKET)
