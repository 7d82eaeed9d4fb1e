"""``manage.py dataset_import NAME (--archive FILE | --folder DIR) --user ADMIN [--json]``: import now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from calls.exceptions import ActionRefused
from learning import services
from learning.models import ImportState

from ._output import admin_user, dumps


class Command(PortalCommand):
    help = "Import a dataset (archive or server folder) in this process and print its report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--archive", help="zip, tar or tar.gz")
        source.add_argument("--folder", help="a folder inside DATASET_IMPORT_ROOTS")
        parser.add_argument("--user", required=True, help="the admin who imports")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        admin = admin_user(opts["user"])
        try:
            if opts["archive"]:
                path = Path(opts["archive"])
                if not path.is_file():
                    raise CommandError(f"No archive at {path}.")
                with path.open("rb") as handle:
                    upload = File(handle, name=path.name)
                    dataset = services.dataset_create(admin=admin, name=opts["name"], archive=upload,  # type: ignore[arg-type]
                                                      background=False)
            else:
                dataset = services.dataset_create(admin=admin, name=opts["name"], folder=opts["folder"],
                                                  background=False)
        except ActionRefused as exc:
            raise CommandError(str(exc)) from exc
        dataset = services.dataset_import_run(dataset_id=dataset.pk)
        result = {"id": dataset.pk, "name": dataset.name, "state": dataset.state, "scheme": dataset.scheme,
                  "error": dataset.error, **dataset.report}
        if opts["json"]:
            self.stdout.write(dumps(result))
        else:
            self.stdout.write(f"{dataset.name}: {dataset.get_state_display()}, {dataset.report.get('taken', 0)} clips, "
                              f"{len(dataset.report.get('refused', []))} refused")
        if dataset.state != ImportState.DONE:
            raise CommandError(f"The import failed: {dataset.error}")
