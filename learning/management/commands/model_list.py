"""``manage.py model_list [--json]``: the registered emotion model versions and their figures."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from accounts.management.base import PortalCommand
from analysis.models import EmotionModelVersion

from ._output import dumps, version_dict


class Command(PortalCommand):
    help = "List the registered emotion model versions, their figures on unseen speakers, and the active one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        rows = [version_dict(v) for v in EmotionModelVersion.objects.all()]
        if opts["json"]:
            self.stdout.write(dumps(rows))
            return
        for r in rows:
            ua = r["figures"]["ua"]
            self.stdout.write(f"{'*' if r['active'] else ' '} {r['name']:<28} {r['kind']:<16} "
                              f"UA {ua if ua is not None else '-'} ({r['figures']['protocol']})")
