"""Replay clients: play a WAV file into the portal as a phone system would, in real time or as fast
as possible, over AudioSocket or the websocket media stream. Used by the tests and the benchmark;
also runnable by hand:

    python -m live.clients audiosocket call.wav --port 9092 [--uuid <announced uuid>]
    python -m live.clients websocket call.wav --url ws://127.0.0.1:8001/ws/live/stream/ --key <api key>
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from core import audio

from .audiosocket import KIND_AUDIO, KIND_HANGUP, KIND_UUID, message
from .codec import mulaw_encode

FRAME_SECONDS = 0.02


def wav_pcm(path: str | Path, *, sample_rate: int = 8000) -> bytes:
    """Any audio file as 16-bit little-endian mono PCM at ``sample_rate``."""
    samples = audio.load(path, sample_rate=sample_rate)
    return pcm_of(samples)


def pcm_of(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM."""
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def frames(data: bytes, *, frame_bytes: int) -> Iterator[bytes]:
    for start in range(0, len(data), frame_bytes):
        yield data[start:start + frame_bytes]


async def _pace(realtime: bool) -> None:
    await asyncio.sleep(FRAME_SECONDS if realtime else 0)


async def audiosocket_call(host: str, port: int, pcm_8k: bytes, *, call_uuid: str | None = None,
                           realtime: bool = True, hang_up: bool = True) -> str:
    """One call over AudioSocket: the UUID, 20 ms frames (320 bytes), then a hang-up frame (or, with
    ``hang_up=False``, the connection simply dropped). Returns the UUID used."""
    call_uuid = call_uuid or str(uuid.uuid4())
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(message(KIND_UUID, uuid.UUID(call_uuid).bytes))
        for frame in frames(pcm_8k, frame_bytes=320):
            writer.write(message(KIND_AUDIO, frame))
            await writer.drain()
            await _pace(realtime)
        if hang_up:
            writer.write(message(KIND_HANGUP))
            await writer.drain()
            await reader.read()  # the server closes once the call is ended
    finally:
        writer.close()
        await writer.wait_closed()
    return call_uuid


def portal_messages(pcm: bytes, *, call_id: str, sample_rate: int = 8000, encoding: str = "mulaw",
                    **details: Any) -> Iterator[str | bytes]:
    """The portal's own shape: a JSON start, binary 20 ms frames, a JSON stop."""
    yield json.dumps({"event": "start", "call_id": call_id, "encoding": encoding, "sample_rate": sample_rate,
                      **details})
    data = mulaw_encode(pcm) if encoding == "mulaw" else pcm
    width = 1 if encoding == "mulaw" else 2
    yield from frames(data, frame_bytes=int(sample_rate * FRAME_SECONDS) * width)
    yield json.dumps({"event": "stop"})


def twilio_messages(pcm_8k: bytes, *, call_sid: str, **parameters: Any) -> Iterator[str]:
    """Twilio's media-stream shape: connected, start (mu-law 8 kHz), base64 media, stop."""
    yield json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    yield json.dumps({"event": "start", "sequenceNumber": "1", "start": {
        "callSid": call_sid, "streamSid": f"MZ{call_sid}", "tracks": ["inbound"], "customParameters": parameters,
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})
    for number, frame in enumerate(frames(mulaw_encode(pcm_8k), frame_bytes=160), start=2):
        yield json.dumps({"event": "media", "sequenceNumber": str(number),
                          "media": {"track": "inbound", "payload": base64.b64encode(frame).decode()}})
    yield json.dumps({"event": "stop"})


async def websocket_call(url: str, key: str, messages: Iterator[str | bytes], *, realtime: bool = True,
                         **connect: Any) -> None:
    """Send the messages over a real websocket with the intake key (needs the ``websockets`` package);
    ``connect`` goes to ``websockets.connect`` (e.g. ``ssl=`` for a wss:// URL)."""
    import websockets

    async with websockets.connect(url, additional_headers={"Authorization": f"Api-Key {key}"}, **connect) as socket:
        for item in messages:
            await socket.send(item)
            if isinstance(item, bytes) or '"media"' in item:
                await _pace(realtime)
        with_timeout = asyncio.wait_for(socket.wait_closed(), 30)
        await with_timeout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ingress", choices=["audiosocket", "websocket"])
    parser.add_argument("wav")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--uuid", default=None)
    parser.add_argument("--url", default="ws://127.0.0.1:8001/ws/live/stream/")
    parser.add_argument("--key", default="")
    parser.add_argument("--caller", default="")
    parser.add_argument("--fast", action="store_true", help="as fast as possible, not in real time")
    args = parser.parse_args()
    pcm = wav_pcm(args.wav)
    if args.ingress == "audiosocket":
        used = asyncio.run(audiosocket_call(args.host, args.port, pcm, call_uuid=args.uuid, realtime=not args.fast))
        print(f"sent {len(pcm) // 2 / 8000:.1f} s as call {used}")
    else:
        call_id = args.uuid or str(uuid.uuid4())
        asyncio.run(websocket_call(args.url, args.key, portal_messages(pcm, call_id=call_id, caller_number=args.caller),
                                   realtime=not args.fast))
        print(f"sent {len(pcm) // 2 / 8000:.1f} s as call {call_id}")


if __name__ == "__main__":
    main()
