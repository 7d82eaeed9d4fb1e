"""Backup and restore: a realistic portal backed up, restored into a second, empty database and
MEDIA_ROOT, and compared row by row and file by file; corrupt archives and non-empty targets refused
with nothing changed; the dump is one snapshot however the database changes meanwhile.

The restore runs as `manage.py restore` in a subprocess against a database this test creates (and
drops), as an operator would run it; the restored rows are read back by `manage.py dumpdata` there.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from analysis import pipeline
from analysis import services as analysis_services
from audits import services as audit_services
from audits.models import AuditItem
from audits.sampling import SamplingConfig
from backups import archive
from calls import services
from calls.models import Case, CaseEvent, Outcome
from learning import services as learning_services
from learning.models import Dataset, DatasetClip

REPO = Path(__file__).resolve().parents[1]
ALWAYS = SamplingConfig(random_share=1.0, second_review_share=0.0, uncertain_margin=0.2, salt="backup-test")
transactional = pytest.mark.django_db(transaction=True)  # a backup's snapshot is a transaction of its own


@pytest.fixture(autouse=True)
def no_background_analysis(monkeypatch):
    """The analysis runs where the test says (below), not in threads racing the backup."""
    monkeypatch.setattr("analysis.dispatch.analysis_dispatch", lambda **kwargs: None)


def _realistic_state(case_factory, upload, users, make_user, media_root: Path) -> None:
    operator, supervisor, admin = users["operator"], users["supervisor"], users["admin"]
    cases = [case_factory(audio=upload(fmt)) for fmt in ("wav", "mp3", "flac")] + [case_factory()]
    for case in cases[:3]:
        pipeline.run_emotion(case.recordings.get().pk)  # real steps and scores
        services.recording_picture_ensure(recording=case.recordings.get())  # as when an operator looks
    pipeline.run_words(cases[0].recordings.get().pk)
    services.note_add(case=cases[0], author=operator, text="Caller gave the street name")
    services.case_claim(case=cases[0], operator=operator)
    services.note_add(case=cases[0], author=operator, text="Ambulance on its way")
    services.case_close(case=cases[0], user=operator, outcome=Outcome.HEALTH, reason="Ambulance sent")
    services.case_claim(case=cases[1], operator=operator)
    services.case_close(case=cases[1], user=operator, outcome=Outcome.PRANK, reason="Laughing, no emergency")
    services.case_claim(case=cases[2], operator=operator)
    services.case_release(case=cases[2], user=operator, reason="Shift change")
    analysis_services.case_override_priority(case=cases[3], supervisor=supervisor, score=90, reason="Known address")
    # Closing may have sampled the call already (on commit); else the rules of ALWAYS pick it.
    item = (audit_services.audit_item_create(case=Case.objects.get(pk=cases[0].pk), config=ALWAYS)
            or AuditItem.objects.get(case_id=cases[0].pk))
    first = audit_services.audit_record(item=item, supervisor=supervisor, category="stressful", genuine=True,
                                        incident_type="medical")
    audit_services.audit_record(item=item, supervisor=supervisor, category="painful", genuine=True,
                                incident_type="medical", comment="Pain, not stress", supersedes=first)
    trained = _trained_model(media_root, admin)
    analysis_services.emotion_model_promote(version=trained, admin=admin, reason="Better on telephone audio")
    analysis_services.emotion_model_rollback(admin=admin, reason="Back while it is checked")
    clip = _dataset_clip(media_root, admin)
    learning_services.clip_change(clip=clip, admin=admin, label="calm", excluded=False, reason="Relabelled")
    make_user("operator", "idle-operator")


def _trained_model(media_root: Path, admin):
    """A version in MEDIA_ROOT/models, as a training run leaves it (a copy of a shipped one, renamed)."""
    folder = media_root / "models" / "emotion-whisper-backup-test"
    shutil.copytree(REPO / "ml_models" / "emotion-whisper-v1", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["version"] = folder.name
    (folder / "metadata.json").write_text(json.dumps(meta))
    return analysis_services.emotion_model_register(folder=folder, user=admin)


def _dataset_clip(media_root: Path, admin) -> DatasetClip:
    audio = (REPO / "ml_models" / "emotion-whisper-v1" / "confusion.png").read_bytes()  # any stored bytes
    sha = hashlib.sha256(audio).hexdigest()
    stored = f"datasets/clips/{sha[:2]}/{sha}.wav"
    (media_root / stored).parent.mkdir(parents=True)
    (media_root / stored).write_bytes(audio)
    dataset = Dataset.objects.create(name="agency-112", source="agency.zip", scheme="112", state="done",
                                     created_by=admin)
    return DatasetClip.objects.create(dataset=dataset, sha256=sha, audio=stored, original_name="01_01_01_01_01.wav",
                                      label="angry", speaker="01", gender="female", duration_s=2.0)


# -- helpers: a second database, the portal's commands run against it ------------------------------


@pytest.fixture
def second_database(tmp_path):
    """(DATABASE_URL, MEDIA_ROOT) of an empty database and folder of their own; dropped afterwards."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}", tmp_path / "restored-media"
        return
    name = f"portal_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 3306}"
    try:
        yield f"mysql://{settings_dict['USER']}{password}@{host}/{name}", tmp_path / "restored-media"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def _manage(database_url: str, media_root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root),
           "DJANGO_SETTINGS_MODULE": "emergency_portal.test_settings"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)


def _rows(dump: list[dict]) -> dict[str, list[dict]]:
    by_model: dict[str, list[dict]] = defaultdict(list)
    for record in dump:
        by_model[record["model"]].append(record)
    return {model: sorted(records, key=lambda r: str(r["pk"])) for model, records in by_model.items()}


def _source_rows() -> dict[str, list[dict]]:
    out = io.StringIO()
    call_command("dumpdata", exclude=["sessions"], format="fulljson", stdout=out)  # times to the microsecond
    return _rows(json.loads(out.getvalue()))


def _target_rows(database_url: str, media_root: Path, where: Path) -> dict[str, list[dict]]:
    result = _manage(database_url, media_root, "dumpdata", "--exclude", "sessions", "--format", "fulljson",
                     "--output", str(where))
    assert result.returncode == 0, result.stderr
    return _rows(json.loads(where.read_text()))


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): archive.sha256_of(p) for p in sorted(root.rglob("*")) if p.is_file()}


# -- the round trip ---------------------------------------------------------------------------------


@transactional
def test_a_restore_into_an_empty_database_gives_back_every_row_and_file(
    case_factory, upload, users, make_user, media_root, tmp_path, second_database
):
    _realistic_state(case_factory, upload, users, make_user, media_root)
    backup = tmp_path / "portal.tar"
    call_command("backup", output=backup, stdout=io.StringIO())
    source, source_files = _source_rows(), _files(media_root)
    for model in ("calls.case", "calls.caseevent", "calls.recording", "calls.note", "analysis.analysisstep",
                  "analysis.triagescore", "audits.audit", "audits.audititem", "analysis.emotionmodelversion",
                  "analysis.emotionmodelactivation", "learning.clipchange", "accounts.user"):
        assert source.get(model), f"the test state has no {model}"
    assert {"transcription", "emotion"} <= {r["fields"]["name"] for r in source["analysis.analysisstep"]}

    database_url, restored_media = second_database
    restored = _manage(database_url, restored_media, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    target = _target_rows(database_url, restored_media, tmp_path / "target.json")
    assert {m: len(r) for m, r in target.items()} == {m: len(r) for m, r in source.items()}
    for model, records in source.items():
        assert target[model] == records, model
    assert _files(restored_media) == source_files
    recording_files = {r["fields"][f] for r in source["calls.recording"] for f in ("original", "normalised", "picture")}
    assert "" not in recording_files and recording_files <= set(source_files)

    again = _manage(database_url, restored_media, "restore", str(backup))
    assert again.returncode != 0 and "The database is not empty" in again.stderr
    assert "Nothing was changed" in again.stderr

    forced = _manage(database_url, restored_media, "restore", "--force", str(backup))  # through the history guard
    assert forced.returncode == 0, forced.stderr
    assert _target_rows(database_url, restored_media, tmp_path / "forced.json") == source


@transactional
def test_the_database_is_read_as_one_snapshot_while_calls_keep_arriving(case_factory, upload, monkeypatch,
                                                                         tmp_path):
    """Between the first read and the dump, another connection commits a new call: the archive has
    neither it nor its events, and agrees with its own manifest."""
    from backups import services as backup_services

    case_factory(audio=upload("wav"))
    counted = backup_services.referenced_media

    def meanwhile(**kwargs):
        thread = threading.Thread(target=lambda: (case_factory(), connection.close()))
        thread.start()
        thread.join()
        return counted(**kwargs)

    monkeypatch.setattr(backup_services, "referenced_media", meanwhile)
    call_command("backup", output=tmp_path / "b.tar", stdout=io.StringIO())
    assert Case.objects.count() == 2
    staging = tmp_path / "staging"
    manifest = archive.extract_verified(tmp_path / "b.tar", staging)
    dumped = _rows(json.loads(gzip.decompress((staging / archive.DATABASE).read_bytes())))
    assert len(dumped["calls.case"]) == manifest.rows["calls.case"] == 1
    assert len(dumped["calls.caseevent"]) == manifest.rows["calls.caseevent"] < CaseEvent.objects.count()


def test_a_backup_inside_a_transaction_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="must not run inside a transaction"):
        call_command("backup", output=tmp_path / "b.tar", stdout=io.StringIO())
    assert not list(tmp_path.iterdir())


# -- refusals ---------------------------------------------------------------------------------------


def _rewrite(source: Path, target: Path, change) -> Path:
    """Copy an archive member by member; change(name, data) returns new bytes, or None to drop it."""
    with tarfile.open(source) as old, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as new:
        for member in old:
            data = old.extractfile(member).read()
            data = change(member.name, data)
            if data is None:
                continue
            info = tarfile.TarInfo(member.name if not isinstance(data, tuple) else data[0])
            payload = data if not isinstance(data, tuple) else data[1]
            info.size = len(payload)
            new.addfile(info, io.BytesIO(payload))
    return target


def _first_media(name: str) -> bool:
    return name.startswith("media/recordings/") and name.endswith(".wav")


def _flip(name, data):
    return bytes([data[0], data[1] ^ 0xFF]) + data[2:] if _first_media(name) else data


def _drop(name, data):
    return None if _first_media(name) else data


def _escape(name, data):
    return ("media/../../evil.wav", data) if _first_media(name) else data


def _manifest_from_other_code(name, data):
    if name != archive.MANIFEST:
        return data
    manifest = json.loads(data)
    manifest["migrations"].append(["calls", "9999_from_the_future"])
    return json.dumps(manifest).encode()


CORRUPTIONS = {
    "a flipped byte in a recording": (_flip, "does not match the manifest"),
    "a recording left out": (_drop, "listed in the manifest but not in the archive"),
    "a path out of MEDIA_ROOT": (_escape, "names a path outside the backup"),
    "another code version": (_manifest_from_other_code, "other migrations than this database has"),
}


@transactional
def test_a_corrupt_or_partial_archive_or_a_full_database_is_refused_and_nothing_changes(
    case_factory, upload, operator, media_root, tmp_path
):
    case = case_factory(audio=upload("wav"))
    services.note_add(case=case, author=operator, text="Before the backup")
    good = tmp_path / "good.tar"
    call_command("backup", output=good, stdout=io.StringIO())
    services.note_add(case=case, author=operator, text="After the backup")  # the live database moved on
    before_rows, before_files = _source_rows(), _files(media_root)
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(os.urandom(4096))
    attempts = {why: (_rewrite(good, tmp_path / f"{i}.tar", change), expected)
                for i, (why, (change, expected)) in enumerate(CORRUPTIONS.items())}
    attempts["cut in half"] = (truncated, "truncated or corrupt|has no manifest.json")
    attempts["not an archive"] = (garbage, "truncated or corrupt")
    attempts["a database with data in it"] = (good, "The database is not empty: .*calls.Case")
    for why, (path, expected) in attempts.items():
        with pytest.raises(CommandError, match=expected):
            call_command("restore", str(path), stdout=io.StringIO())
        assert _source_rows() == before_rows, why
        assert _files(media_root) == before_files, why
        assert not list(media_root.glob(".restore-*")), why  # no staging folder left behind
