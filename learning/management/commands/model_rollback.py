"""``manage.py model_rollback --user ADMIN --reason WHY [--json]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from analysis.services import emotion_model_rollback
from calls.exceptions import ActionRefused

from ._output import admin_user, dumps, version_dict


class Command(PortalCommand):
    help = "Make the emotion model version that was active before the current one active again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the admin who makes the change")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            activation = emotion_model_rollback(admin=admin_user(opts["user"]), reason=opts["reason"])
        except ActionRefused as exc:
            raise CommandError(str(exc)) from exc
        version = activation.version
        self.stdout.write(dumps(version_dict(version)) if opts["json"] else f"{version.name} is active again.")
