"""Live updates. Role checked on connect; the channel layer only carries small change notices.

The ASGI app wraps these in AllowedHostsOriginValidator (forged Origins are refused before they
get here) and AuthMiddlewareStack (the session's user). A refused connection is closed before it
is accepted, so the browser sees a failed handshake and learns nothing else.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import broadcast
from .ws_security import CLOSE_SESSION_ENDED, session_alive, session_group, user_group

# Close codes for refusals (sent before accept, so they only show up in tests and server logs).
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404

security_log = logging.getLogger("security")


def _log_refusal(scope, user, why: str) -> None:
    who = user.get_username() if user is not None and user.is_authenticated else "anonymous"
    client = (scope.get("client") or ["?"])[0]
    security_log.warning("websocket refused: user=%s path=%s ip=%s reason=%s", who, scope.get("path"), client, why)


class RoleCheckedConsumer(AsyncJsonWebsocketConsumer):
    required_role = "operator"

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.has_role(self.required_role):
            _log_refusal(self.scope, user, f"needs the {self.required_role} role")
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await self.allowed(user):
            _log_refusal(self.scope, user, "not allowed to see it")
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.groups_joined: list[str] = []
        session_key = getattr(self.scope.get("session"), "session_key", None)
        ends = [user_group(user.pk)] + ([session_group(session_key)] if session_key else [])
        for group in [*self.groups_for(user), *ends]:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        await self.send_json({"type": "hello", "v": broadcast.PAYLOAD_VERSION})

    async def allowed(self, user) -> bool:
        return True

    def groups_for(self, user) -> list[str]:
        raise NotImplementedError

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # A binary frame or text that is not JSON is ignored like any other unknown message: the
        # base class would raise on it and end the connection with an error (1011).
        if text_data is None:
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        # The only thing a client may say is "are you there?"; everything else is ignored.
        if isinstance(content, dict) and content.get("type") == "ping":
            # The page pings every 20 s: a session that ended meanwhile (idle expiry) ends the socket too.
            if not await session_alive(self.scope):
                await self.close(code=CLOSE_SESSION_ENDED)
                return
            await self.send_json({"type": "pong"})

    async def case_changed(self, message):
        await self.send_json(_outgoing(message, "case"))

    async def session_ended(self, message):
        """The user logged out of this session, or was deactivated: nothing more for this socket."""
        await self.close(code=CLOSE_SESSION_ENDED)


class QueueConsumer(RoleCheckedConsumer):
    """ws/queue/: every change to any case, for operators, supervisors and admins."""

    def groups_for(self, user) -> list[str]:
        return [broadcast.QUEUE_GROUP]


class CaseConsumer(RoleCheckedConsumer):
    """ws/cases/<pk>/: changes to one case, for those who may see it (others get a 404 close)."""

    async def connect(self):
        self.case_id = int(self.scope["url_route"]["kwargs"]["pk"])
        await super().connect()

    async def allowed(self, user) -> bool:
        return await self._can_see(user, self.case_id)

    def groups_for(self, user) -> list[str]:
        return [broadcast.case_group(self.case_id)]

    @database_sync_to_async
    def _can_see(self, user, case_id: int) -> bool:
        from .selectors import cases_visible_to

        return cases_visible_to(user).filter(pk=case_id).exists()


class TrainingJobsConsumer(RoleCheckedConsumer):
    """ws/training/: progress of model-training jobs, for admins only."""

    required_role = "admin"

    def groups_for(self, user) -> list[str]:
        return [broadcast.TRAINING_GROUP]

    async def training_changed(self, message):
        await self.send_json(_outgoing(message, "training"))


def _outgoing(message: dict, kind: str) -> dict:
    """The layer message minus its dispatch type, tagged with what it is about."""
    return {k: v for k, v in message.items() if k != "type"} | {"type": kind}
