"""Training runs from the pages' services: a tiny real run to a registered version, cancellation at
once and at a checkpoint, the refusals, and the pages."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import selectors
from analysis import services as analysis_services
from calls.exceptions import NotAllowed
from learning import services, training
from learning.exceptions import DatasetRefused, JobRefused
from learning.models import Dataset, RunState, TrainingRun

pytestmark = pytest.mark.django_db


def imported_ravdess(admin, ravdess_dir: Path, actors: int = 4, every: int = 8, name: str = "tiny") -> Dataset:
    """A few clips of the first actors, imported through the real importer."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for actor in range(1, actors + 1):
            for path in sorted((ravdess_dir / f"Actor_{actor:02d}").iterdir())[::every]:
                z.write(path, path.name)
    dataset = services.dataset_create(admin=admin, name=name, archive=SimpleUploadedFile("t.zip", buffer.getvalue()))
    return services.dataset_import_run(dataset_id=dataset.pk)


def _admin_page(version) -> str:
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.filter(role="admin").first())
    return client.get(f"/learning/models/{version.pk}/").content.decode()


def test_a_tiny_real_run_registers_a_version_that_can_be_promoted(admin_user, ravdess_dir, settings):
    dataset = imported_ravdess(admin_user, ravdess_dir)
    run = training.training_run_start(admin=admin_user, dataset=dataset, folds=2)
    assert run.state == RunState.PENDING
    run = training.training_run_execute(run_id=run.pk)
    assert run.state == RunState.DONE, run.error
    version = run.version
    assert version.name == f"emotion-tiny-run{run.pk}" and version.registered_by == admin_user
    assert Path(settings.MEDIA_ROOT, "models", version.name, "metadata.json").is_file()
    figures = selectors.emotion_model_figures(version)
    assert figures.protocol == "2 folds by speaker" and 0.0 <= figures.ua <= 1.0
    assert version.metadata["dataset"]["n_clips"] == dataset.clips.count()
    assert selectors.emotion_model_promotion_blockers(version, selectors.triage_config_active()) == []
    page = _admin_page(version)
    assert "Triage trust in its voice: <strong>0.00</strong>" in page and 'id="no-trust"' in page
    analysis_services.emotion_model_promote(version=version, admin=admin_user, reason="trained from the pages")
    assert selectors.emotion_model_active().version_id == version.pk
    assert training.training_run_execute(run_id=run.pk).state == RunState.DONE  # a redelivery does nothing


def test_a_run_is_cancelled_while_waiting_or_at_its_next_checkpoint(admin_user, ravdess_dir, settings):
    dataset = imported_ravdess(admin_user, ravdess_dir)
    waiting = training.training_run_start(admin=admin_user, dataset=dataset, folds=2)
    waiting = training.training_run_cancel(run=waiting, admin=admin_user)
    assert waiting.state == RunState.CANCELLED
    assert training.training_run_execute(run_id=waiting.pk).state == RunState.CANCELLED  # never starts
    with pytest.raises(JobRefused, match="ended already"):
        training.training_run_cancel(run=waiting, admin=admin_user)
    running = training.training_run_start(admin=admin_user, dataset=dataset, folds=2)
    TrainingRun.objects.filter(pk=running.pk).update(cancel_requested=True)  # the click arrives mid-run
    running = training.training_run_execute(run_id=running.pk)
    assert running.state == RunState.CANCELLED and running.version is None
    assert not (Path(settings.MEDIA_ROOT) / "models" / training.version_name(running)).exists()


def test_runs_that_cannot_give_honest_figures_are_refused(admin_user, supervisor, ravdess_dir):
    dataset = imported_ravdess(admin_user, ravdess_dir, actors=2, every=10)
    with pytest.raises(NotAllowed):
        training.training_run_start(admin=supervisor, dataset=dataset, folds=2)
    with pytest.raises(DatasetRefused, match="2 speaker\\(s\\): too few for 2 folds"):
        training.training_run_start(admin=admin_user, dataset=dataset, folds=2)
    with pytest.raises(JobRefused, match="Folds must be from 2 to 10"):
        training.training_run_start(admin=admin_user, dataset=dataset, folds=1)
    pending = Dataset.objects.create(name="pending", source="-", created_by=admin_user)
    with pytest.raises(DatasetRefused, match="not imported"):
        training.training_run_start(admin=admin_user, dataset=pending, folds=2)
    assert not TrainingRun.objects.exists()


def test_the_pages_start_show_and_cancel_a_run(client, admin_user, ravdess_dir):
    dataset = imported_ravdess(admin_user, ravdess_dir)
    client.force_login(admin_user)
    response = client.submit("/learning/training/", data={"dataset": dataset.pk, "folds": 2})
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/learning/training/{run.pk}/"
    page = client.get(f"/learning/training/{run.pk}/").content.decode()
    assert f'id="run-live" data-run="{run.pk}"' in page and "waiting for a worker" in page
    response = client.submit(f"/learning/training/{run.pk}/", f"/learning/training/{run.pk}/cancel/", follow=True)
    assert b"Cancelled" in response.content and TrainingRun.objects.get().state == RunState.CANCELLED
    bad = client.submit("/learning/training/", data={"dataset": dataset.pk, "folds": 40})
    assert bad.status_code == 200 and b"less than or equal to 10" in bad.content and TrainingRun.objects.count() == 1


def test_the_commands_import_and_train_for_scripts(admin_user, ravdess_dir, tmp_path, settings):
    import json

    from django.core.management import CommandError, call_command

    archive = tmp_path / "four.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for actor in range(1, 5):
            for path in sorted((ravdess_dir / f"Actor_{actor:02d}").iterdir())[::8]:
                z.write(path, path.name)
    out = io.StringIO()
    call_command("dataset_import", "cli", "--archive", str(archive), "--user", admin_user.username, "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["state"] == "done" and report["taken"] == 32 and report["scheme"] == "ravdess"
    out = io.StringIO()
    call_command("training_run", "cli", "--user", admin_user.username, "--folds", "2", "--json", stdout=out)
    trained = json.loads(out.getvalue())
    assert trained["version"].startswith("emotion-cli-run") and trained["figures"]["protocol"] == "2 folds by speaker"
    with pytest.raises(CommandError, match="exists already"):
        call_command("dataset_import", "cli", "--archive", str(archive), "--user", admin_user.username)
    with pytest.raises(CommandError, match="too few for 6 folds"):
        call_command("training_run", "cli", "--user", admin_user.username)
