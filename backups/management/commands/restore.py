"""``manage.py restore ARCHIVE [--force]``: put a backup back (see backups.services)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from backups.services import BackupError, backup_restore


class Command(PortalCommand):
    help = ("Restore a backup onto an empty database (one without tables is migrated first), after "
            "checking every file of the archive against its manifest. Refuses a database with data "
            "unless --force, which replaces everything in it.")
    needs_migrated_database = False  # it migrates a database without tables itself

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument("--force", action="store_true",
                            help="replace whatever the database holds, and overwrite media files of the same name")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **opts: Any) -> None:
        path: Path = opts["archive"]
        if not path.is_file():
            raise CommandError(f"No archive at {path}.")
        started = time.monotonic()
        try:
            result = backup_restore(path=path, force=opts["force"], using=opts["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(f"Restored {result.rows} rows and {result.media_files} media files "
                          f"({result.media_written} written) in {time.monotonic() - started:.1f} s")
