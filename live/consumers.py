"""Live calls' audio over websockets (live.protocol has the shapes).

* ``/ws/live/stream/``: a phone system streams one call. Reached without an Origin header by machine
  clients (calls.ws_security.MachineClients) and through the browsers' same-origin stack otherwise;
  either way only an intake client's API key streams.
* ``/ws/live/desk/``: an operator's browser streams the headset's microphone (static/js/desk.js), the
  portal's message shape with 16 kHz L16 frames. Browsers' stack only (same origin, the session's
  user); only operators.

A refusal before the stream is accepted fails the handshake (4401/4403); after it, the socket is
closed with the code and a reason (live.protocol), and whatever audio arrived is kept.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from calls.ws_security import CLOSE_SESSION_ENDED, session_group, user_group

from .auth import desk_operator, stream_client
from .models import Ingress, LiveStream
from .protocol import CLOSE_BAD_MESSAGE, ProtocolError, StreamStart, parse_text
from .session import LiveSession

logger = logging.getLogger(__name__)
NORMAL_CLOSURE = 1000


class LiveStreamConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.session = LiveSession()
        try:
            self.client = await database_sync_to_async(self.caller)(self.scope)
        except ProtocolError as exc:
            await self.close(code=exc.code)
            return
        await self.accept()

    def caller(self, scope: dict[str, Any]) -> Any:
        """Who streams, or ProtocolError; runs in a thread (it may read the database)."""
        return stream_client(scope)

    async def open_stream(self, start: StreamStart) -> LiveStream:
        return await self.session.open(client=self.client, start=start, ingress=Ingress.WEBSOCKET)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            if text_data is not None:
                await self._text(text_data)
            elif bytes_data is not None:
                if not self.session.started:
                    raise ProtocolError(CLOSE_BAD_MESSAGE, "Audio before the start message.")
                await self.session.audio(bytes_data)
        except ProtocolError as exc:
            logger.info("Live stream of %s refused: %s", self.client, exc.reason)
            await self.refuse(exc)

    async def refuse(self, exc: ProtocolError) -> None:
        await self.session.drop(reason=exc.reason)  # what arrived is kept; the client may come back
        await self.close(code=exc.code, reason=exc.reason)

    async def _text(self, text: str) -> None:
        try:
            content = json.loads(text)
        except ValueError as exc:
            raise ProtocolError(CLOSE_BAD_MESSAGE, "Text messages must be JSON.") from exc
        message = parse_text(content, started=self.session.started)
        if message.kind == "start" and message.start is not None:
            stream = await self.open_stream(message.start)
            if message.start.shape == "portal":  # the others' platforms expect nothing back
                await self.send(json.dumps({"event": "started", "case": stream.case_id, "call_id": stream.call_id,
                                            "frames": stream.frames}))
        elif message.kind == "media":
            await self.session.audio(message.audio)
        elif message.kind == "stop":
            await self.session.finish()
            await self.close(code=NORMAL_CLOSURE)

    async def disconnect(self, code: int) -> None:
        session = getattr(self, "session", None)
        if session is None:
            return
        # A normal close is a hang-up; anything else (1006: the line dropped) may still come back.
        if code == NORMAL_CLOSURE:
            await session.finish(reason="Hung up (the stream closed normally).")
        else:
            await session.drop(reason=f"connection lost, code {code}")


class DeskStreamConsumer(LiveStreamConsumer):
    """An operator takes a call at their desk. Logging out (or being deactivated) ends the socket as it
    ends the queue's: the stream counts as dropped, not hung up, so its audio is kept and attached
    when the reconnect window closes."""

    def caller(self, scope: dict[str, Any]) -> Any:
        return desk_operator(scope)

    async def connect(self) -> None:
        await super().connect()
        client = getattr(self, "client", None)
        if client is None:
            return
        session_key = getattr(self.scope.get("session"), "session_key", None)
        self.groups_joined = [user_group(client.pk)] + ([session_group(session_key)] if session_key else [])
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)

    async def open_stream(self, start: StreamStart) -> LiveStream:
        return await self.session.open_desk(operator=self.client, start=start)

    async def refuse(self, exc: ProtocolError) -> None:
        # Daphne sends no close reason (only the code): say it first, for the page to show the operator.
        await self.send(json.dumps({"event": "refused", "code": exc.code, "reason": exc.reason}))
        await super().refuse(exc)

    async def session_ended(self, message: dict[str, Any]) -> None:
        await self.session.drop(reason="the operator's session ended")
        await self.close(code=CLOSE_SESSION_ENDED)

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        await super().disconnect(code)
