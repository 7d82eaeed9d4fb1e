"""``python manage.py live_worker [--index I --of N]``: follow the calls on the line (live.worker)."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from live.worker import LiveWorker


class Command(BaseCommand):
    help = "Transcribe and score live calls while the caller is speaking; run N of them with --index/--of."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--index", type=int, default=0, help="This process's number, from 0 (default 0).")
        parser.add_argument("--of", type=int, default=1, help="How many live worker processes run (default 1).")

    def handle(self, *args: Any, index: int, of: int, **options: Any) -> None:
        if of < 1 or not 0 <= index < of:
            raise CommandError(f"--index must be from 0 to --of minus 1 (got --index {index} --of {of}).")
        asyncio.run(self._serve(index, of))

    async def _serve(self, index: int, of: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        worker = LiveWorker(index=index, of=of)  # loads Whisper and the VAD before taking calls
        await asyncio.to_thread(worker.warm_up)  # and runs each once: a first run is slow
        self.stdout.write(f"Live worker {index} of {of} following calls", ending="\n")
        self.stdout.flush()
        await worker.run(stop=stop)
