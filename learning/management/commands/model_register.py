"""``manage.py model_register FOLDER [--json]``: register a trained version's folder (immutable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from analysis.services import emotion_model_register
from calls.exceptions import ActionRefused

from ._output import dumps, version_dict


class Command(PortalCommand):
    help = "Register an emotion model version folder (made by train_emotion_model) so it can be promoted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            version = emotion_model_register(folder=Path(opts["folder"]))
        except ActionRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(dumps(version_dict(version)) if opts["json"] else f"Registered {version.name}.")
