"""Dataset import: a 112-scheme archive and a RAVDESS folder, each clip decoded and stored once, with
a report of what was refused and why; hostile input refused; the pages, for admins."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from analysis import dispatch
from calls.exceptions import NotAllowed
from core.audio import write_wav
from learning import services
from learning.exceptions import DatasetRefused
from learning.models import Dataset, DatasetClip, ImportState
from learning.selectors import dataset_counts

pytestmark = pytest.mark.django_db


def wav_bytes(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    write_wav(buffer, samples)
    return buffer.getvalue()


@pytest.fixture
def clips(ravdess_dir) -> list[bytes]:
    from core import audio

    names = sorted((ravdess_dir / "Actor_01").iterdir())[:3] + sorted((ravdess_dir / "Actor_02").iterdir())[:3]
    return [wav_bytes(audio.load(p)) for p in names]


def archive_112(clips: list[bytes]) -> bytes:
    """Six real clips under 112-scheme names, one synthetic copy, and what must be refused."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("set/01_01_02_01_07.wav", clips[0])  # angry, male, natural, speaker 07
        z.writestr("set/03_02_02_01_07.wav", clips[1])  # painful
        z.writestr("set/04_01_02_02_07.wav", clips[2])  # stressful, synthetic copy of speaker 07
        z.writestr("set/01_03_01_01_12.wav", clips[3])  # angry, female, speaker 12
        z.writestr("set/02_01_01_01_12.wav", clips[4])  # drunk
        z.writestr("set/04_04_01_01_12.wav", clips[5])
        z.writestr("set/04_04_01_01_13.wav", clips[5])  # the same audio again
        z.writestr("set/03_01_01_01_14.wav", b"RIFF not really a wav file")
        z.writestr("set/03_01_01_01_15.wav", wav_bytes(np.zeros(16000, np.float32)))
        z.writestr("set/notes.txt", b"recorded in 2024")
        z.writestr("set/hello.wav", clips[0])
        z.writestr("../outside.wav", clips[0])
    return buffer.getvalue()


def test_a_112_scheme_archive_is_imported_with_its_report(admin_user, clips, settings):
    upload = SimpleUploadedFile("agency-112.zip", archive_112(clips))
    dataset = services.dataset_create(admin=admin_user, name="agency", archive=upload)
    dataset = services.dataset_import_run(dataset_id=dataset.pk)
    assert dataset.state == ImportState.DONE and dataset.scheme == "112", dataset.error
    assert dataset.report["taken"] == 6
    refused = {r["file"]: r["why"] for r in dataset.report["refused"]}
    assert refused == {
        "../outside.wav": "path leaves the archive's folder (..)",
        "set/04_04_01_01_13.wav": "the same audio as set/04_04_01_01_12.wav",
        "set/03_01_01_01_14.wav": "The file is not a recognisable audio file.",
        "set/03_01_01_01_15.wav": "silent",
        "set/notes.txt": "not an audio file (by its name)",
        "set/hello.wav": "the name follows neither RAVDESS nor the 112 scheme, and no manifest.csv lists it",
    }
    counts = dataset_counts(dataset)
    assert counts.by_label_gender == {("angry", "male"): 1, ("painful", "male"): 1, ("stressful", "male"): 1,
                                      ("angry", "female"): 1, ("drunk", "female"): 1, ("stressful", "female"): 1}
    assert counts.by_speaker == {"07": 3, "12": 3} and counts.synthetic == 1
    synthetic = DatasetClip.objects.get(synthetic=True)
    assert synthetic.speaker == "07"  # a synthetic copy stays with its source speaker
    stored = Path(settings.MEDIA_ROOT) / synthetic.audio
    assert stored.read_bytes() == clips[2] and synthetic.sha256 in stored.name
    media = Path(settings.MEDIA_ROOT)
    assert {p.relative_to(media).parts[:2] for p in media.rglob("*") if p.is_file()} == {("datasets", "clips")}
    assert not (media.parent / "outside.wav").exists()  # nothing outside; the upload and work files are gone


def test_the_same_audio_in_two_datasets_is_stored_once(admin_user, clips, settings):
    for name in ("first", "second"):
        d = services.dataset_create(admin=admin_user, name=name, archive=SimpleUploadedFile("a.zip", archive_112(clips)))
        services.dataset_import_run(dataset_id=d.pk)
    assert DatasetClip.objects.count() == 12
    assert len(list((Path(settings.MEDIA_ROOT) / "datasets" / "clips").rglob("*.wav"))) == 6


def test_a_ravdess_folder_on_the_server_is_imported(admin_user, ravdess_dir, settings):
    settings.DATASET_IMPORT_ROOTS = [ravdess_dir.parent]
    d = services.dataset_create(admin=admin_user, name="ravdess-actor-1", folder=str(ravdess_dir / "Actor_01"))
    d = services.dataset_import_run(dataset_id=d.pk)
    assert d.state == ImportState.DONE and d.scheme == "ravdess" and d.report["taken"] == 60
    counts = dataset_counts(d)
    assert counts.by_speaker == {"01": 60} and counts.genders == ["male"] and len(counts.labels) == 8


def test_an_audit_export_is_read_through_its_manifest(admin_user, clips):
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerows([("path", "label", "speaker", "gender", "source_case"), ("audio/1.wav", "prank", "a1b2", "male", 1),
                      ("audio/2.wav", "stressful", "c3d4", "unknown", 2), ("audio/3.wav", "calm", "e5", "female", 3)])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("manifest.csv", manifest.getvalue())
        z.writestr("audio/1.wav", clips[0])
        z.writestr("audio/2.wav", clips[1])
        z.writestr("audio/extra.wav", clips[2])
    d = services.dataset_create(admin=admin_user, name="audits", archive=SimpleUploadedFile("export.zip", buffer.getvalue()))
    d = services.dataset_import_run(dataset_id=d.pk)
    assert d.state == ImportState.DONE and d.scheme == "manifest" and d.report["taken"] == 2
    assert {r["file"]: r["why"] for r in d.report["refused"]} == {
        "audio/3.wav": "listed in the manifest but not among the files", "audio/extra.wav": "not listed in manifest.csv"}
    assert set(DatasetClip.objects.values_list("label", "speaker", "gender")) == {
        ("prank", "a1b2", "male"), ("stressful", "c3d4", "unknown")}


def test_bad_requests_are_refused_and_change_nothing(admin_user, supervisor, settings, tmp_path):
    settings.DATASET_IMPORT_ROOTS = [tmp_path / "allowed"]
    (tmp_path / "allowed").mkdir()
    archive = SimpleUploadedFile("a.zip", b"PK\x03\x04")
    with pytest.raises(NotAllowed):
        services.dataset_create(admin=supervisor, name="x", archive=archive)
    with pytest.raises(DatasetRefused, match="only from"):
        services.dataset_create(admin=admin_user, name="x", folder="/etc")
    with pytest.raises(DatasetRefused, match="only from"):
        services.dataset_create(admin=admin_user, name="x", folder=str(tmp_path / "allowed" / ".." / ".."))
    with pytest.raises(DatasetRefused, match="one of the two"):
        services.dataset_create(admin=admin_user, name="x")
    with pytest.raises(DatasetRefused, match="Give the dataset a name"):
        services.dataset_create(admin=admin_user, name=" ", archive=archive)
    assert not Dataset.objects.exists()


def test_a_hostile_archive_fails_the_import_visibly(admin_user, settings):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("01_01_01_01_01.wav", b"\0" * (30 * 2**20))
    d = services.dataset_create(admin=admin_user, name="bomb", archive=SimpleUploadedFile("b.zip", bomb.getvalue()))
    d = services.dataset_import_run(dataset_id=d.pk)
    assert d.state == ImportState.FAILED and "zip bomb" in d.error and not d.clips.exists()
    assert [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()] == []
    assert services.dataset_import_run(dataset_id=d.pk).state == ImportState.FAILED  # a redelivery does nothing


@pytest.mark.django_db(transaction=True)
def test_an_admin_imports_on_the_page_and_reads_the_counts(client, admin_user, clips, settings):
    settings.ANALYSIS_BACKEND = "inprocess"
    client.force_login(admin_user)
    response = client.submit("/learning/datasets/", data={"name": "agency", "folder": "",
                                                         "archive": SimpleUploadedFile("agency.zip", archive_112(clips))})
    dataset = Dataset.objects.get(name="agency")
    assert response.status_code == 302 and response["Location"] == f"/learning/datasets/{dataset.pk}/"
    dispatch.wait_for_inprocess(timeout=60)
    page = client.get(f"/learning/datasets/{dataset.pk}/").content.decode()
    assert "6 clips (1 synthetic)" in page and "the same audio as set/04_04_01_01_12.wav" in page
    chart = client.get(f"/learning/datasets/{dataset.pk}/chart.png")
    assert chart["Content-Type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    again = client.submit("/learning/datasets/", data={"name": "agency", "folder": "/etc"})
    assert b"exists already" in again.content and Dataset.objects.count() == 1
    assert os.listdir(Path(settings.MEDIA_ROOT) / "datasets" / "uploads") == []


def test_explore_listen_relabel_and_exclude_never_destroy(client, admin_user, clips, settings):
    from learning.models import ClipChange
    from learning.selectors import attribute_groups, dataset_clips_now
    from learning.training import dataset_clips

    d = services.dataset_create(admin=admin_user, name="agency", archive=SimpleUploadedFile("a.zip", archive_112(clips)))
    d = services.dataset_import_run(dataset_id=d.pk)
    pitch = {c.gender: c.attributes["pitch_hz"] for c in d.clips.filter(label="angry")}
    assert pitch["male"] < pitch["female"]  # actor 1 is a man, actor 2 a woman
    assert set(d.clips.first().attributes) == {"pitch_hz", "loudness_db", "speaking_rate", "centroid_hz", "mfcc1", "mfcc2"}
    assert sum(len(v) for v in attribute_groups(d, "pitch_hz").values()) == 6

    client.force_login(admin_user)
    clip = d.clips.get(original_name="set/02_01_01_01_12.wav")
    audio = client.get(f"/learning/clips/{clip.pk}/audio")
    assert audio.status_code == 200 and b"".join(audio.streaming_content) == clips[4]
    page = f"/learning/datasets/{d.pk}/"
    client.submit(page, f"/learning/clips/{clip.pk}/change/", {"label": "Stressful", "reason": "heard again"})
    other = d.clips.get(original_name="set/01_01_02_01_07.wav")
    client.submit(page, f"/learning/clips/{other.pk}/change/", {"label": "angry", "excluded": "on", "reason": "clipped"})
    refused = client.submit(page, f"/learning/clips/{other.pk}/change/", {"label": "angry", "reason": ""})
    assert refused.status_code == 302 and ClipChange.objects.count() == 2
    now = {n.clip.original_name: n for n in dataset_clips_now(d)}
    assert now["set/02_01_01_01_12.wav"].label == "stressful" and now["set/01_01_02_01_07.wav"].excluded
    clip.refresh_from_db()
    assert clip.label == "drunk" and DatasetClip.objects.count() == 6  # the clip itself never changes
    assert dataset_counts(d).total == 5 and ("drunk", "female") not in dataset_counts(d).by_label_gender
    used = {c.path.name: c.label for c in dataset_clips(d)}
    assert len(used) == 5 and used[Path(clip.audio).name] == "stressful"
    shown = client.get(page).content.decode()
    assert "(was drunk)" in shown and "excluded" in shown
    chart = client.get(f"/learning/datasets/{d.pk}/attributes/pitch_hz.png")
    assert chart["Content-Type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    assert client.get(f"/learning/datasets/{d.pk}/attributes/nope.png").status_code == 404
