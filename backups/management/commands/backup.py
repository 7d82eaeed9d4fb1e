"""``manage.py backup [--output FILE]``: one archive of the database and MEDIA_ROOT (see backups.services)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from accounts.management.base import PortalCommand
from backups.services import BackupError, backup_create


class Command(PortalCommand):
    help = "Back up every row of the database (one consistent snapshot) and every file of MEDIA_ROOT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path,
                            help="the archive to write (default: BACKUP_DIR/portal-<UTC time>.tar)")
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **opts: Any) -> None:
        output = opts["output"] or Path(settings.BACKUP_DIR) / f"portal-{timezone.now():%Y%m%d-%H%M%S}.tar"
        if output.exists():
            raise CommandError(f"{output} exists already; a backup never overwrites another.")
        started = time.monotonic()
        try:
            result = backup_create(output=output, using=opts["database"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for path in result.missing_media:
            self.stderr.write(f"warning: the database names {path}, which is not in MEDIA_ROOT")
        self.stdout.write(f"{result.path}: {result.rows} rows, {result.media_files} media files, "
                          f"{result.size_bytes / 1e6:.1f} MB in {time.monotonic() - started:.1f} s")
