"""Live updates. Role checked on connect; the channel layer only carries small change notices."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import broadcast

# Close codes the browser client understands: it stops retrying on these.
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class RoleCheckedConsumer(AsyncJsonWebsocketConsumer):
    required_role = "operator"

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.has_role(self.required_role):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.groups_joined: list[str] = []
        for group in await self.groups_for(user):
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        await self.send_json({"type": "hello", "v": broadcast.PAYLOAD_VERSION})

    async def groups_for(self, user) -> list[str]:
        raise NotImplementedError

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def case_changed(self, message):
        await self.send_json({k: v for k, v in message.items() if k != "type"} | {"type": "case"})


class QueueConsumer(RoleCheckedConsumer):
    async def groups_for(self, user) -> list[str]:
        return [broadcast.QUEUE_GROUP]


class CaseConsumer(RoleCheckedConsumer):
    async def connect(self):
        self.case_id = int(self.scope["url_route"]["kwargs"]["pk"])
        user = self.scope.get("user")
        if user is not None and user.is_authenticated and not await self._can_see(user, self.case_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await super().connect()

    async def groups_for(self, user) -> list[str]:
        return [broadcast.case_group(self.case_id)]

    @database_sync_to_async
    def _can_see(self, user, case_id: int) -> bool:
        from .selectors import cases_visible_to

        return cases_visible_to(user).filter(pk=case_id).exists()
