"""``manage.py model_evaluate VERSION [VERSION] --dataset NAME --user ADMIN [--json]``: judge one or two
versions now on the same clips of a dataset, its speakers that none of them heard."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from accounts.management.base import PortalCommand
from analysis.models import EmotionModelVersion
from calls.exceptions import ActionRefused
from learning.evaluation import evaluation_execute, evaluation_start
from learning.models import Dataset, RunState

from ._output import admin_user, dumps


class Command(PortalCommand):
    help = "Judge model versions on a dataset's unheard speakers in this process (as the compare page does)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("versions", nargs="+", metavar="VERSION")
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--user", required=True, help="the admin who asks")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        versions = []
        for name in opts["versions"]:
            version = EmotionModelVersion.objects.filter(name=name).first()
            if version is None:
                raise CommandError(f"No model version {name!r}.")
            versions.append(version)
        dataset = Dataset.objects.filter(name=opts["dataset"]).first()
        if dataset is None:
            raise CommandError(f"No dataset {opts['dataset']!r}.")
        try:
            evaluation = evaluation_start(admin=admin_user(opts["user"]), versions=versions, dataset=dataset,
                                          background=False)
        except ActionRefused as exc:
            raise CommandError(str(exc)) from exc
        evaluation = evaluation_execute(evaluation_id=evaluation.pk)
        if evaluation.state != RunState.DONE:
            raise CommandError(f"The evaluation ended {evaluation.get_state_display().lower()}: {evaluation.error}")
        results = {v.name: evaluation.results[str(v.pk)] for v in versions}
        if opts["json"]:
            self.stdout.write(dumps({"evaluation": evaluation.pk, "dataset": dataset.name,
                                     "speakers": evaluation.speakers, "results": results}))
            return
        self.stdout.write(f"{dataset.name}: {len(evaluation.speakers)} unheard speakers")
        for name, figures in results.items():
            clean, telephone = figures["clean"], figures["telephone"]
            self.stdout.write(f"  {name}: UA {clean['unweighted_accuracy']:.3f}, distress AUC "
                              f"{clean.get('distress_auc', float('nan')):.3f}, telephone UA "
                              f"{telephone['unweighted_accuracy']:.3f} on {figures['n']} clips")
