"""``manage.py training_run DATASET [--also NAME ...] [--check NAME] --user ADMIN [--folds 6] [--json]``: train
now, register the result."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from analysis.selectors import emotion_model_figures
from calls.exceptions import ActionRefused
from learning import training
from learning.models import Dataset, RunState

from ._output import admin_user, dumps


class Command(PortalCommand):
    help = "Train a Whisper-encoder head on an imported dataset in this process (as a page-started run does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset")
        parser.add_argument("--user", required=True, help="the admin who trains")
        parser.add_argument("--folds", type=int, default=6)
        parser.add_argument("--also", nargs="*", default=[], metavar="DATASET", help="more datasets to train on")
        parser.add_argument("--check", metavar="DATASET", help="a corpus never trained on, for cross-corpus figures")
        parser.add_argument("--held-out", nargs="*", default=[], metavar="SPEAKER",
                            help="speakers kept out of training and measured on (instead of the folds)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        dataset = _dataset(opts["dataset"])
        try:
            run = training.training_run_start(admin=admin_user(opts["user"]), dataset=dataset, folds=opts["folds"],
                                              extra_datasets=[_dataset(name) for name in opts["also"]],
                                              check_dataset=_dataset(opts["check"]) if opts["check"] else None,
                                              held_out_speakers=opts["held_out"],
                                              background=False)
        except ActionRefused as exc:
            raise CommandError(str(exc)) from exc
        run = training.training_run_execute(run_id=run.pk)
        if run.state != RunState.DONE or run.version is None:
            raise CommandError(f"The run ended {run.get_state_display().lower()}: {run.error}")
        figures = asdict(emotion_model_figures(run.version))
        if opts["json"]:
            self.stdout.write(dumps({"run": run.pk, "version": run.version.name, "figures": figures}))
        else:
            self.stdout.write(f"{run.version.name}: held-out UA {figures['ua']:.3f} ({figures['protocol']})")


def _dataset(name: str) -> Dataset:
    dataset = Dataset.objects.filter(name=name).first()
    if dataset is None:
        raise CommandError(f"No dataset {name!r}.")
    return dataset
