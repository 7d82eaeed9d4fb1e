"""``manage.py audit_report --json [--model-version V] [--since DATE] [--until DATE]``: the
dashboard's figures on the command line."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from audits.metrics import DashboardFilter, dashboard_figures


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"'{value}' is not a date (YYYY-MM-DD).") from exc


class Command(PortalCommand):
    help = "Print the audit dashboard's figures (prank false positives first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="all figures as JSON")
        parser.add_argument("--model-version", default="")
        parser.add_argument("--since", default=None, help="YYYY-MM-DD")
        parser.add_argument("--until", default=None, help="YYYY-MM-DD, inclusive")

    def handle(self, *args: Any, **opts: Any) -> None:
        since = _date(opts["since"]) if opts["since"] else None
        until = _date(opts["until"]) if opts["until"] else None
        if since and until and since > until:
            raise CommandError("--since is after --until.")
        figures = dashboard_figures(DashboardFilter(opts["model_version"], since, until))
        if opts["json"]:
            self.stdout.write(json.dumps(figures, indent=1, default=str))
            return
        fp = figures["all"]["prank_false_positive_rate"]
        cov = figures["coverage"]
        self.stdout.write(f"audited {cov['audited']} of {cov['closed_calls']} closed calls "
                          f"(random sample {cov['random_picked']})")
        if fp["value"] is None:
            self.stdout.write("prank false-positive rate: no audited genuine calls yet")
        else:
            self.stdout.write(f"prank false-positive rate: {fp['hits']}/{fp['total']} = {fp['value']:.3f} "
                              f"(95 % {fp['low']:.3f}-{fp['high']:.3f})")
