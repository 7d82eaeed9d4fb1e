"""One connection's side of a live call, shared by every ingress (phone systems' websockets,
AudioSocket, operators' desks): check each frame, decode it to 16-bit PCM, buffer it, write it out at
least every LIVE_FLUSH_SECONDS, and hand the stream to the services at start, drop and hang-up.
Async; the database and the disk are reached in a thread."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from . import services
from .codec import mulaw_decode
from .models import Encoding, LiveStream
from .protocol import CLOSE_TOO_LARGE, ProtocolError, StreamStart, check_frame
from .spool import SpoolBuffer, spool_path


class LiveSession:
    def __init__(self) -> None:
        self.stream: LiveStream | None = None
        self.start: StreamStart | None = None
        self.buffer = SpoolBuffer(flush_seconds=settings.LIVE_FLUSH_SECONDS)
        self.pcm_bytes = 0  # of the whole call, a resumed stream's earlier audio included

    @property
    def started(self) -> bool:
        return self.stream is not None

    async def open(self, *, client: Any, start: StreamStart, ingress: str) -> LiveStream:
        self.stream = await database_sync_to_async(services.stream_open)(client=client, start=start, ingress=ingress)
        self.start = start
        self.pcm_bytes = await database_sync_to_async(_spooled_bytes)(self.stream.audio_name)
        return self.stream

    async def open_desk(self, *, operator: Any, start: StreamStart) -> LiveStream:
        self.stream = await database_sync_to_async(services.desk_stream_open)(operator=operator, start=start)
        self.start = start
        self.pcm_bytes = await database_sync_to_async(_spooled_bytes)(self.stream.audio_name)
        return self.stream

    async def open_audiosocket(self, call_uuid: str) -> LiveStream:
        self.stream = await database_sync_to_async(services.audiosocket_open)(call_uuid=call_uuid)
        self.start = StreamStart(call_id=call_uuid, encoding=self.stream.encoding, sample_rate=self.stream.sample_rate)
        self.pcm_bytes = await database_sync_to_async(_spooled_bytes)(self.stream.audio_name)
        return self.stream

    async def audio(self, data: bytes) -> None:
        """One frame as sent (mu-law or L16). Raises ProtocolError for a frame the stream cannot take."""
        assert self.start is not None
        check_frame(self.start, data, max_seconds=settings.LIVE_MAX_FRAME_SECONDS)
        pcm = mulaw_decode(data) if self.start.encoding == Encoding.MULAW else data
        if (self.pcm_bytes + len(pcm)) / 2 / self.start.sample_rate > settings.MAX_AUDIO_SECONDS:
            await self.finish(reason="Ended at the longest call a recording may hold.")
            raise ProtocolError(CLOSE_TOO_LARGE, f"The call is over {settings.MAX_AUDIO_SECONDS:g} s: the "
                                                 "recording ends here.")
        self.pcm_bytes += len(pcm)
        self.buffer.add(pcm, received=len(data))
        if self.buffer.due():
            await self.flush()

    async def flush(self) -> None:
        if self.stream is None or not self.buffer.frames:
            return
        pcm, frames, received = self.buffer.take()
        await database_sync_to_async(services.stream_write)(stream_id=self.stream.pk, audio_name=self.stream.audio_name,
                                                            pcm=pcm, frames=frames, received=received)

    async def finish(self, *, reason: str = "Hung up.") -> None:
        """The call ended normally: the audio becomes the case's recording."""
        if self.stream is None:
            return
        await self.flush()
        stream, self.stream = self.stream, None
        await database_sync_to_async(services.stream_finish)(stream_id=stream.pk, reason=reason)

    async def drop(self, *, reason: str) -> None:
        """The connection ended without a hang-up: keep what arrived, wait for a reconnect."""
        if self.stream is None:
            return
        await self.flush()
        stream, self.stream = self.stream, None
        await database_sync_to_async(services.stream_interrupt)(stream_id=stream.pk, reason=reason)


def _spooled_bytes(name: str) -> int:
    path = spool_path(name)
    return path.stat().st_size if path.exists() else 0
