"""``manage.py audit_export OUT.zip``: audited calls as a labelled dataset (audio + manifest.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from audits.export import write_export


class Command(PortalCommand):
    help = "Write the audited calls and their labels as a dataset archive the importer reads."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="the zip file to write")

    def handle(self, *args: Any, **opts: Any) -> None:
        out = Path(opts["out"])
        if out.exists():
            raise CommandError(f"{out} exists already.")
        count = write_export(out)
        self.stdout.write(f"{count} audited call(s) written to {out}.")
