"""``python manage.py live_audiosocket --host 0.0.0.0 --port 9092``: the Asterisk AudioSocket server."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from live.audiosocket import AudioSocketServer, sweep_forever


class Command(BaseCommand):
    help = "Take live calls from Asterisk's AudioSocket (TCP) and stream them into cases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=9092, help="TCP port (default 9092).")

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        asyncio.run(self._serve(host, port))

    async def _serve(self, host: str, port: int) -> None:
        server = AudioSocketServer()
        bound = await server.start(host, port)
        self.stdout.write(f"AudioSocket server listening on {host}:{bound}")
        sweeper = asyncio.create_task(sweep_forever())
        try:
            await asyncio.Event().wait()  # until interrupted
        finally:
            sweeper.cancel()
            await server.close()
