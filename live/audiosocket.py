"""Asterisk AudioSocket (Asterisk 18+): an asyncio TCP server, one connection per call.

Each message is a 3-byte header (kind, then the payload length as a big-endian 16-bit number) and
the payload: 0x01 the call's UUID (16 bytes, first), 0x10 audio (signed 16-bit little-endian linear
PCM, 8 kHz mono, usually 320 bytes per 20 ms), 0x00 hang-up, 0xff an error (a code byte). The UUID
is one announced over ``POST /api/v1/live/calls/``, or any other (a case with an unknown number).
Asterisk dialplan: ``exten => 112,1,Answer()`` then ``same => n,AudioSocket(<uuid>,portal:9092)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from channels.db import database_sync_to_async

from . import services
from .protocol import ProtocolError
from .session import LiveSession

logger = logging.getLogger(__name__)

KIND_HANGUP, KIND_UUID, KIND_AUDIO, KIND_ERROR = 0x00, 0x01, 0x10, 0xFF
FIRST_MESSAGE_SECONDS = 10.0  # a connection that never names its call is dropped
SWEEP_SECONDS = 5.0


def message(kind: int, payload: bytes = b"") -> bytes:
    return bytes([kind]) + len(payload).to_bytes(2, "big") + payload


async def read_message(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    header = await reader.readexactly(3)
    return header[0], await reader.readexactly(int.from_bytes(header[1:3], "big"))


class AudioSocketServer:
    """``await start(host, port)``; ``await close()`` stops listening and waits for the calls in hand."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.calls: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._accept, host, port)
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if self.calls:
            await asyncio.gather(*self.calls, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.calls.add(task)
        try:
            await handle_call(reader, writer)
        finally:
            self.calls.discard(task)


async def handle_call(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    session = LiveSession()
    peer = writer.get_extra_info("peername")
    try:
        kind, payload = await asyncio.wait_for(read_message(reader), FIRST_MESSAGE_SECONDS)
        if kind != KIND_UUID or len(payload) != 16:
            logger.warning("AudioSocket %s: the first message was kind 0x%02x, not the call's UUID", peer, kind)
            return
        await session.open_audiosocket(str(uuid.UUID(bytes=payload)))
        while True:
            kind, payload = await read_message(reader)
            if kind == KIND_AUDIO:
                await session.audio(payload)
            elif kind == KIND_HANGUP:
                await session.finish()
                return
            elif kind == KIND_ERROR:
                logger.warning("AudioSocket %s: error frame %s from Asterisk", peer, payload.hex())
                await session.drop(reason=f"Asterisk sent an error ({payload.hex() or 'no code'})")
                return
            # other kinds (0x02 silence, 0x03 DTMF in newer Asterisk) carry no audio: skipped
    except ProtocolError as exc:
        logger.warning("AudioSocket %s refused: %s", peer, exc.reason)
        await session.drop(reason=exc.reason)
        with contextlib.suppress(ConnectionError):
            writer.write(message(KIND_HANGUP))  # Asterisk hangs up its side
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
        await session.drop(reason="connection lost")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def sweep_forever(interval: float = SWEEP_SECONDS) -> None:
    """Cut off the streams whose reconnect window passed (Celery beat does it too, where it runs)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await database_sync_to_async(services.streams_sweep)()
        except Exception:  # a failed sweep is retried next time; the server keeps taking calls
            logger.exception("Live stream sweep failed")
