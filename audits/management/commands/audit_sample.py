"""``manage.py audit_sample [--since DATE]``: apply the audit sampling rules to closed calls that
were never considered (calls closed before the audit app existed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from accounts.management.base import PortalCommand
from audits.services import audit_items_sample_past


class Command(PortalCommand):
    help = "Pick past closed calls for supervisors' review, by the same rules as new ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", default=None, help="only calls closed since YYYY-MM-DD")

    def handle(self, *args: Any, **opts: Any) -> None:
        since = None
        if opts["since"]:
            try:
                since = timezone.make_aware(datetime.fromisoformat(opts["since"]))
            except ValueError as exc:
                raise CommandError(f"'{opts['since']}' is not a date (YYYY-MM-DD).") from exc
        picked = audit_items_sample_past(since=since)
        self.stdout.write(f"{picked} call(s) picked for review.")
