"""A phone system meets the portal as production serves it: Daphne, a real websocket handshake with
the key in its headers and no Origin, the replay client of live.clients."""

from __future__ import annotations

import asyncio
import time

import pytest
import websockets

from live.clients import portal_messages, websocket_call
from live.models import LiveStream, StreamState

from ..daphne_server import daphne_server
from .conftest import recording_pcm
from .helpers import off_loop

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_replay_client_streams_a_call_through_daphne(intake, pcm_8k):
    _, secret = intake
    with daphne_server() as url:
        socket_url = url.replace("http://", "ws://") + "/ws/live/stream/"
        off_loop(asyncio.run, websocket_call(socket_url, secret, portal_messages(
            pcm_8k, call_id="daphne-1", encoding="l16", caller_number="9876543210"), realtime=False))
        with pytest.raises(websockets.InvalidStatus):  # no key: the handshake fails
            off_loop(asyncio.run, websocket_call(socket_url, "wrong.key", iter(["{}"]), realtime=False))
        for _ in range(100):  # the server finishes the call after the close handshake
            stream = LiveStream.objects.filter(call_id="daphne-1").first()
            if stream and stream.state == StreamState.ENDED:
                break
            time.sleep(0.1)
    assert stream is not None and stream.state == StreamState.ENDED
    assert recording_pcm(stream.recording) == (pcm_8k, 8000)
