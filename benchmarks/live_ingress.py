"""How the live benchmark's calls reach the portal, each as a phone system sends it, paced to the clock
(a 20 ms frame is sent once it has been spoken), optionally dropped once mid-call and continued by a
reconnect with the same call id:

- ``websocket``: the portal's message shape (a JSON start, binary mu-law frames, a JSON stop) through
  the real ASGI application and its consumer, in this process (Channels' communicator: no TCP);
- ``audiosocket``: Asterisk's AudioSocket over TCP to the portal's AudioSocket server, started in this
  process on a free port, the call announced first over the services as the REST API does;
- ``spool``: straight to the stream's file every LIVE_FLUSH_SECONDS, as an ingress writes it (the live
  worker alone, no protocol).

A dropped connection is continued the way a phone system does: once the portal has seen the drop
(the stream is interrupted), a new connection names the same call and sends the audio that was
spoken meanwhile at once, then goes on in real time. Frames lost = frames sent - frames the stream
counted.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

INGRESSES = ("websocket", "audiosocket", "spool")
FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM
FRAME_SECONDS = 0.02
CALLER = "9876543210"
Send = Callable[[bytes], Awaitable[Any]]


@dataclass
class LiveCallResult:
    call_id: str = ""
    case_id: int | None = None
    frames_sent: int = 0
    reconnects: int = 0
    stream_ids: list[int] = field(default_factory=list)


def frame_count(pcm: bytes) -> int:
    return -(-len(pcm) // FRAME_BYTES)


def segments(pcm: bytes, drop_at: float | None) -> list[tuple[int, int]]:
    """Frame ranges sent over one connection each: the whole call, or before and after the drop."""
    total = frame_count(pcm)
    if drop_at is None:
        return [(0, total)]
    cut = min(total - 1, max(1, int(drop_at / FRAME_SECONDS)))
    return [(0, cut), (cut, total)]


async def paced(pcm: bytes, started: float, first: int, last: int, send: Send, result: LiveCallResult) -> None:
    """Frames ``first`` to ``last - 1``, each once it has been spoken; any already due go at once."""
    for index in range(first, last):
        delay = started + (index + 1) * FRAME_SECONDS - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(pcm[index * FRAME_BYTES:(index + 1) * FRAME_BYTES])
        result.frames_sent += 1


def _stream_state(call_id: str) -> str:
    from live.models import LiveStream

    return LiveStream.objects.filter(call_id=call_id).values_list("state", flat=True).first() or ""


async def until_interrupted(call_id: str, *, timeout: float = 10) -> None:
    """The portal has seen the drop: a reconnect now continues the stream rather than being refused."""
    from live.models import StreamState

    deadline = time.monotonic() + timeout
    while await sync_to_async(_stream_state)(call_id) != StreamState.INTERRUPTED:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the portal never saw call {call_id}'s connection drop")
        await asyncio.sleep(0.02)


async def websocket_call(pcm: bytes, started: float, result: LiveCallResult, *, key: str,
                         drop_at: float | None = None) -> LiveCallResult:
    from channels.testing import WebsocketCommunicator

    from emergency_portal.asgi import application
    from live.codec import mulaw_encode

    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Api-Key {key}".encode())]
    parts = segments(pcm, drop_at)
    for index, (first, last) in enumerate(parts):
        socket = WebsocketCommunicator(application, "/ws/live/stream/", headers=headers)
        connected, code = await socket.connect(timeout=10)
        if not connected:
            raise RuntimeError(f"the stream was refused ({code})")
        await socket.send_to(text_data=json.dumps({"event": "start", "call_id": result.call_id, "encoding": "mulaw",
                                                   "sample_rate": 8000, "caller_number": CALLER}))
        reply = await socket.receive_json_from(timeout=10)
        result.case_id = reply["case"]

        async def send(frame: bytes, socket: WebsocketCommunicator = socket) -> None:
            await socket.send_to(bytes_data=mulaw_encode(frame))

        await paced(pcm, started, first, last, send, result)
        if index == len(parts) - 1:
            await socket.send_to(text_data=json.dumps({"event": "stop"}))
            while (await socket.receive_output(timeout=30))["type"] != "websocket.close":
                pass
            await socket.disconnect()
        else:  # dropped without a stop: an abnormal close
            await socket.disconnect(code=1006)
            await until_interrupted(result.call_id)
            result.reconnects += 1
    return result


async def audiosocket_call(pcm: bytes, started: float, result: LiveCallResult, *, port: int,
                           drop_at: float | None = None) -> LiveCallResult:
    from live.audiosocket import KIND_AUDIO, KIND_HANGUP, KIND_UUID, message

    parts = segments(pcm, drop_at)
    for index, (first, last) in enumerate(parts):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(message(KIND_UUID, uuid.UUID(result.call_id).bytes))

        async def send(frame: bytes, writer: asyncio.StreamWriter = writer) -> None:
            writer.write(message(KIND_AUDIO, frame))
            await writer.drain()

        await paced(pcm, started, first, last, send, result)
        if index == len(parts) - 1:
            writer.write(message(KIND_HANGUP))
            await writer.drain()
            await reader.read()  # the server closes once the call is ended
        writer.close()
        await writer.wait_closed()
        if index < len(parts) - 1:  # dropped without a hang-up
            await until_interrupted(result.call_id)
            result.reconnects += 1
    return result


async def spool_call(pcm: bytes, started: float, result: LiveCallResult, *, stream: Any) -> LiveCallResult:
    """Written as an ingress writes it: every LIVE_FLUSH_SECONDS, straight to the stream's file."""
    from django.conf import settings

    from live import services

    chunk = max(1, int(settings.LIVE_FLUSH_SECONDS / FRAME_SECONDS))
    for first in range(0, frame_count(pcm), chunk):
        last = min(frame_count(pcm), first + chunk)
        delay = started + last * FRAME_SECONDS - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        part = pcm[first * FRAME_BYTES:last * FRAME_BYTES]
        await asyncio.to_thread(services.stream_write, stream_id=stream.pk, audio_name=stream.audio_name, pcm=part,
                                frames=last - first, received=len(part))
        result.frames_sent += last - first
    await asyncio.to_thread(services.stream_finish, stream_id=stream.pk)
    return result


def prepare(ingress: str, *, client: Any, index: int, tag: str) -> tuple[LiveCallResult, Any]:
    """The call's id (and, where the ingress needs one made before the audio, its stream)."""
    from live import services
    from live.protocol import StreamStart

    if ingress == "audiosocket":  # announced over the API's service: the UUID Asterisk will name
        stream = services.call_announce(client=client, caller_number=CALLER)
        return LiveCallResult(call_id=stream.call_id, case_id=stream.case_id), stream
    call_id = f"bench-{tag}-{index}"
    if ingress == "spool":
        stream = services.stream_open(client=client, start=StreamStart(call_id=call_id, encoding="l16", sample_rate=8000,
                                                                       caller_number=CALLER), ingress="websocket")
        return LiveCallResult(call_id=call_id, case_id=stream.case_id), stream
    return LiveCallResult(call_id=call_id), None


def frames_counted(call_id: str) -> int:
    from live.models import LiveStream

    return sum(LiveStream.objects.filter(call_id=call_id).values_list("frames", flat=True))
