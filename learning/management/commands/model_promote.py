"""``manage.py model_promote NAME --user ADMIN --reason WHY [--json]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from analysis.services import emotion_model_promote
from calls.exceptions import ActionRefused

from ._output import admin_user, dumps, version_dict, version_named


class Command(PortalCommand):
    help = "Make a registered emotion model version the active one (recorded with who and why)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--user", required=True, help="the admin who makes the change")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        version = version_named(opts["name"])
        try:
            emotion_model_promote(version=version, admin=admin_user(opts["user"]), reason=opts["reason"])
        except ActionRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(dumps(version_dict(version)) if opts["json"] else f"{version.name} is now active.")
