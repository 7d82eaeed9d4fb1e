"""Training on several datasets with a cross-corpus check, and judging two versions on the same
unheard speakers of a dataset (services, command, compare page)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from analysis import selectors
from analysis.models import EmotionModelVersion
from calls.exceptions import NotAllowed
from learning import services, training
from learning.evaluation import evaluation_execute, evaluation_start, unheard_speakers
from learning.exceptions import DatasetRefused
from learning.models import Evaluation, RunState

from .test_training_runs import imported_ravdess

pytestmark = pytest.mark.django_db
EMODB_SPEAKERS = ("03", "08", "09", "10", "11", "12")


def imported_emodb(admin, emodb_dir: Path, name: str = "emodb-small", per_label: int = 1):
    """A few EmoDB clips per speaker and label (angry, happy, neutral, sad), imported as a manifest dataset."""
    archive = emodb_archive(emodb_dir, per_label)
    dataset = services.dataset_create(admin=admin, name=name, archive=SimpleUploadedFile("e.zip", archive))
    return services.dataset_import_run(dataset_id=dataset.pk)


def emodb_archive(emodb_dir: Path, per_label: int = 1,
                  labels: tuple[str, ...] = ("angry", "happy", "neutral", "sad")) -> bytes:
    """A zip of EmoDB clips of six speakers with a manifest.csv (the CSV scheme)."""
    rows = list(csv.DictReader((emodb_dir / "metadata.csv").open(encoding="utf-8")))
    buffer, manifest, taken = io.BytesIO(), io.StringIO(), {}
    writer = csv.writer(manifest)
    writer.writerow(["path", "label", "speaker", "gender"])
    with zipfile.ZipFile(buffer, "w") as z:
        for row in rows:
            key = (row["speaker"], row["emotion"])
            if row["speaker"] in EMODB_SPEAKERS and row["emotion"] in labels \
                    and taken.get(key, 0) < per_label:
                taken[key] = taken.get(key, 0) + 1
                z.write(emodb_dir / row["path"], Path(row["path"]).name)
                writer.writerow([Path(row["path"]).name, row["emotion"], row["speaker"], row["gender"]])
        z.writestr("manifest.csv", manifest.getvalue())
    return buffer.getvalue()


def test_a_run_on_two_datasets_is_checked_on_a_corpus_it_never_heard(admin_user, ravdess_dir, emodb_dir):
    first = imported_ravdess(admin_user, ravdess_dir, actors=2, every=8, name="first")
    emodb = imported_emodb(admin_user, emodb_dir)
    assert emodb.state == "done", emodb.report
    second = imported_ravdess(admin_user, ravdess_dir, actors=4, every=9, name="second")
    run = training.training_run_start(admin=admin_user, dataset=first, extra_datasets=[second], check_dataset=emodb,
                                      folds=2)
    run = training.training_run_execute(run_id=run.pk)
    assert run.state == RunState.DONE, run.error
    meta = run.version.metadata
    # the same actor in two datasets is kept apart by dataset name; six speakers in all
    assert set(meta["speaker_genders"]) == {"first/01", "first/02", "second/01", "second/02", "second/03", "second/04"}
    assert meta["dataset"]["names"] == ["first", "second"]
    assert meta["metrics"]["cross_corpus"]["corpus"] == "emodb-small"
    assert set(meta["metrics"]["cross_corpus"]["labels"]) == {"angry", "happy", "neutral", "sad"}
    figures = selectors.emotion_model_figures(run.version)
    assert figures.cross_corpus == "emodb-small" and 0.0 <= figures.cross_corpus_ua <= 1.0
    assert figures.cross_corpus_auc is not None


def test_a_cross_corpus_check_that_is_not_unheard_is_refused(admin_user, supervisor, ravdess_dir, emodb_dir):
    dataset = imported_ravdess(admin_user, ravdess_dir)
    copy = imported_ravdess(admin_user, ravdess_dir, name="copy")  # the same audio under another name
    with pytest.raises(DatasetRefused, match="is trained on"):
        training.training_run_start(admin=admin_user, dataset=dataset, check_dataset=dataset, folds=2)
    with pytest.raises(DatasetRefused, match="32 clip\\(s\\) of copy are also in the training data"):
        training.training_run_start(admin=admin_user, dataset=dataset, check_dataset=copy, folds=2)
    with pytest.raises(NotAllowed):
        training.training_run_start(admin=supervisor, dataset=dataset, check_dataset=copy, folds=2)
    assert not training.TrainingRun.objects.exists()


def test_two_versions_are_judged_on_the_same_unheard_speakers(admin_user, supervisor, ravdess_dir, emodb_dir, client):
    shipped = EmotionModelVersion.objects.get(name="emotion-whisper-v1")  # heard all 24 RAVDESS actors
    tiny = imported_ravdess(admin_user, ravdess_dir, actors=4, name="tiny")
    run = training.training_run_execute(run_id=training.training_run_start(admin=admin_user, dataset=tiny, folds=2).pk)
    trained = run.version
    ravdess = imported_ravdess(admin_user, ravdess_dir, actors=6, every=12, name="ravdess-six")
    emodb = imported_emodb(admin_user, emodb_dir)
    # what each version heard, by lineage: the page-trained one actors 1-4 (same scheme), the shipped one all
    assert unheard_speakers([trained], ravdess) == ["05", "06"]
    assert unheard_speakers([trained, shipped], ravdess) == []
    assert unheard_speakers([trained, shipped], emodb) == list(EMODB_SPEAKERS)
    with pytest.raises(DatasetRefused, match="0 speaker\\(s\\) that .* never heard"):
        evaluation_start(admin=admin_user, versions=[trained, shipped], dataset=ravdess)
    with pytest.raises(NotAllowed):
        evaluation_start(admin=supervisor, versions=[trained, shipped], dataset=emodb)

    client.force_login(admin_user)
    compare = f"/learning/models/compare/?a={trained.pk}&b={shipped.pk}"
    response = client.submit(compare, "/learning/models/evaluate/", data={"a": trained.pk, "b": shipped.pk, "dataset": emodb.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"a={trained.pk}&b={shipped.pk}#evaluations")
    evaluation = Evaluation.objects.get()
    assert evaluation.state == RunState.PENDING and evaluation.speakers == list(EMODB_SPEAKERS)
    evaluation = evaluation_execute(evaluation_id=evaluation.pk)
    assert evaluation.state == RunState.DONE, evaluation.error
    a, b = evaluation.results[str(trained.pk)], evaluation.results[str(shipped.pk)]
    assert a["n"] == b["n"] == 24 and a["speakers"] == b["speakers"] == list(EMODB_SPEAKERS)
    assert sorted(a["labels"]) == ["angry", "happy", "neutral", "sad"]
    for figures in (a, b):
        assert set(figures) >= {"clean", "telephone"}
        assert set(figures["clean"]["per_gender"]) == {"female", "male"}
        assert sum(map(sum, figures["clean"]["confusion"])) == 24
    # the shipped model was chosen on many more voices: it should beat the 4-actor toy on unheard German voices
    assert b["clean"]["distress_auc"] > 0.5
    page = client.get(compare).content.decode()
    assert "emodb-small" in page and f'{b["clean"]["unweighted_accuracy"]:.3f}' in page
    picture = client.get(f"/learning/evaluations/{evaluation.pk}/{shipped.pk}/confusion.png")
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert client.get(f"/learning/evaluations/{evaluation.pk}/999999/confusion.png").status_code == 404
    assert evaluation_execute(evaluation_id=evaluation.pk).results == evaluation.results  # a redelivery does nothing

    out = io.StringIO()
    call_command("model_evaluate", shipped.name, "--dataset", emodb.name, "--user", admin_user.username, "--json",
                 stdout=out)
    assert json.loads(out.getvalue())["results"][shipped.name]["clean"] == b["clean"]  # the same clips, the same figures
    with pytest.raises(CommandError, match="never heard"):
        call_command("model_evaluate", shipped.name, "--dataset", ravdess.name, "--user", admin_user.username)


def test_held_out_speakers_are_measured_on_and_never_trained_on(admin_user, ravdess_dir, client):
    dataset = imported_ravdess(admin_user, ravdess_dir, actors=5, every=8, name="five")
    with pytest.raises(DatasetRefused, match="No speaker 09 in the data"):
        training.training_run_start(admin=admin_user, dataset=dataset, held_out_speakers=["09"])
    with pytest.raises(DatasetRefused, match="too little to train on"):
        training.training_run_start(admin=admin_user, dataset=dataset, held_out_speakers=["01", "02", "03", "04"])
    client.force_login(admin_user)
    response = client.submit("/learning/training/", data={"dataset": dataset.pk, "folds": 6,
                                                           "held_out_speakers": "04, 05"})
    run = training.TrainingRun.objects.get()
    assert response.status_code == 302 and run.held_out_speakers == ["04", "05"]
    run = training.training_run_execute(run_id=run.pk)
    assert run.state == RunState.DONE, run.error
    meta = run.version.metadata
    assert meta["held_out_speakers"] == ["04", "05"] and set(meta["speaker_genders"]) == {"01", "02", "03"}
    assert [f["test_speakers"] for f in meta["metrics"]["held_out"]["folds"]] == [["04", "05"]]
    assert selectors.emotion_model_figures(run.version).protocol == "held-out speakers 04, 05"
    # the version never heard them: a later comparison may use them
    assert unheard_speakers([run.version], dataset) == ["04", "05"]
