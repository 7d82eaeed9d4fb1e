"""The channel layer as configured: a consumer that hears nothing for a while keeps listening.

redis-py 8 gives every read a 5 s socket timeout unless told otherwise, and channels_redis blocks
for 5 s waiting for a message: with the two equal, every websocket idle for 5 s died with "Timeout
reading from Redis" (close 1011) and the pages reconnected over and over."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from channels.layers import get_channel_layer
from django.conf import settings


def test_an_idle_consumer_outlives_the_blocking_pop_and_still_gets_its_message():
    if "RedisChannelLayer" not in settings.CHANNEL_LAYERS["default"]["BACKEND"]:
        pytest.skip("needs REDIS_URL: the in-memory layer has no socket")
    from channels_redis.core import RedisChannelLayer

    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"], prefix=f"idle-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    assert get_channel_layer() is not None

    async def listen() -> dict:
        layer = RedisChannelLayer(**config)
        channel = await layer.new_channel()
        with pytest.raises(asyncio.TimeoutError):  # nothing for 7 s: asyncio's timeout, not Redis's
            await asyncio.wait_for(layer.receive(channel), 7)
        await layer.send(channel, {"type": "case.changed", "case": 1})
        message = await asyncio.wait_for(layer.receive(channel), 5)
        await layer.flush()
        return message

    from tests.live.helpers import off_loop

    assert off_loop(asyncio.run, listen(), timeout=60)["case"] == 1
