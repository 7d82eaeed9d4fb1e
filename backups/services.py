"""Backup and restore of the whole portal: every row of the database and every file of MEDIA_ROOT.

Why a command pair of our own rather than django-dbbackup or mariadb-dump:
- **One archive, one manifest.** django-dbbackup writes the database and the media as two
  archives from two commands, without a list of the files and their sha256, and its restore
  neither refuses a non-empty database nor checks the files; we would have wrapped it anyway.
- **Any database, checked schema.** The rows go through Django's serialiser (``dumpdata``), so the
  same command backs up the embedded SQLite run and MariaDB, an archive can move between them,
  and the restore knows the migrations the rows were written under and refuses other code.
  mariadb-dump is faster on very large databases but ties the archive to one engine.
- **Consistent.** The dump is read in one transaction: on MariaDB/MySQL ``START TRANSACTION
  WITH CONSISTENT SNAPSHOT, READ ONLY`` at REPEATABLE READ (what ``mariadb-dump
  --single-transaction`` does; Django's own connections run at READ COMMITTED, which would let
  each table be read at a different moment). MEDIA_ROOT is read *after* the dump: files are
  write-once and named by content, so every file a dumped row names is already there, and a
  file written meanwhile is only an unreferenced extra.
- **Restore changes nothing unless all is well.** The archive is extracted to a staging folder
  and every file checked against the manifest; the schema and the target are checked; only then
  are files put in place and the rows loaded, in one transaction that also empties the tables
  (``--force``) and compares the row count of every model with the manifest.

Limits: ``loaddata`` holds the whole dump in memory while loading (about 1 KB a row: fine for
years of calls at one centre, not for a national archive; use mariadb-dump there). The restore
must run with the code version that made the backup (same migrations); migrate afterwards.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from . import archive, serializer
from .archive import ArchiveError, Manifest
from .references import referenced_media

logger = logging.getLogger(__name__)

# Not backed up: sessions (after a restore everybody logs in again; a stolen-then-restored
# session must not come back).
EXCLUDED_APPS = ("sessions",)
# What `migrate` writes by itself (content types, permissions, the model versions shipped in
# ml_models/): a freshly migrated database counts as empty despite these rows.
MIGRATE_MADE_TABLES = {"contenttypes.contenttype", "auth.permission", "sessions.session"}
MIGRATE_MADE_ROWS = {"analysis.emotionmodelversion": {"registered_by__isnull": True, "path__startswith": "ml_models/"}}


class BackupError(Exception):
    """The backup or restore was refused or failed; nothing was changed (the message says why)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    rows: int
    media_files: int
    missing_media: list[str]


@dataclass(frozen=True)
class RestoreResult:
    rows: int
    media_files: int
    media_written: int
    warnings: list[str]


# -- backup ----------------------------------------------------------------------------------------


def backup_create(*, output: Path, using: str = "default") -> BackupResult:
    """Write one archive of the database (one consistent snapshot) and then of MEDIA_ROOT."""
    media_root = Path(settings.MEDIA_ROOT)
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = archive.Writer(output)
    try:
        with tempfile.TemporaryDirectory(prefix="portal-backup-") as work:
            dump = Path(work) / archive.DATABASE
            manifest, referenced = _dump_database(dump, using=using)
            writer.add_file(dump, archive.DATABASE)
        copied = {_add_media(writer, media_root, path) for path in _media_files(media_root)}
        manifest.missing_media = sorted(p for p in referenced if not _covered(p, copied))
        writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    return BackupResult(path=output, size_bytes=output.stat().st_size, rows=sum(manifest.rows.values()),
                        media_files=len(copied), missing_media=manifest.missing_media)


def _dump_database(target: Path, *, using: str) -> tuple[Manifest, set[str]]:
    connection = connections[using]
    with _snapshot(using):
        rows = {model._meta.label_lower: model._base_manager.using(using).count() for model in backed_up_models()}
        migrations = sorted(MigrationRecorder(connection).applied_migrations())
        referenced = referenced_media(using=using)
        call_command("dumpdata", exclude=list(EXCLUDED_APPS), use_base_manager=True, output=str(target),
                     format=serializer.FORMAT, database=using, verbosity=0, stdout=io.StringIO())
    source = {"vendor": connection.vendor, "media_root": str(settings.MEDIA_ROOT)}
    return Manifest(created_at=timezone.now().isoformat(), source=source, rows=rows,
                    migrations=migrations), referenced


@contextmanager
def _snapshot(using: str) -> Iterator[None]:
    """Every read inside sees the database as it was at one moment."""
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError("A backup must not run inside a transaction: its snapshot would be the caller's.")
    if connection.vendor != "mysql":
        # SQLite: one transaction is one snapshot (and the settings begin it IMMEDIATE, locking writers out).
        with transaction.atomic(using=using):
            if connection.vendor == "postgresql":
                connection.cursor().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")  # it only read: nothing to keep


def backed_up_models() -> list[Any]:
    return [model for model in apps.get_models()
            if model._meta.app_label not in EXCLUDED_APPS and model._meta.managed and not model._meta.proxy]


def _media_files(media_root: Path) -> Iterator[Path]:
    """Plain files under MEDIA_ROOT (not links; not a restore's staging folder), in a stable order."""
    if not media_root.is_dir():
        return
    for folder, dirs, files in os.walk(media_root):
        if Path(folder) == media_root:
            dirs[:] = [d for d in dirs if not d.startswith(".restore-")]
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _add_media(writer: archive.Writer, media_root: Path, path: Path) -> str:
    relative = path.relative_to(media_root).as_posix()
    writer.add_file(path, archive.MEDIA_PREFIX + relative)
    return relative


def _covered(referenced: str, copied: set[str]) -> bool:
    """A referenced file was copied; a referenced folder (a model version) has a file copied."""
    return referenced in copied or any(c.startswith(referenced.rstrip("/") + "/") for c in copied)


# -- restore ---------------------------------------------------------------------------------------


def backup_restore(*, path: Path, force: bool = False, using: str = "default") -> RestoreResult:
    """Restore an archive onto an empty database (one with no tables is migrated first) or, with
    ``force``, over whatever is there. Raises BackupError, having changed nothing, when the archive
    is corrupt or partial, was made under other migrations, or the target holds data."""
    media_root = Path(settings.MEDIA_ROOT)
    created_root = not media_root.exists()
    media_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=media_root))
    try:
        try:
            manifest = archive.extract_verified(path, staging)
        except ArchiveError as exc:
            raise BackupError(f"{path.name}: {exc}. Nothing was changed.") from exc
        return _restore_verified(manifest, staging, media_root, force=force, using=using)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created_root and not any(media_root.iterdir()):
            media_root.rmdir()


def _restore_verified(manifest: Manifest, staging: Path, media_root: Path, *, force: bool,
                      using: str) -> RestoreResult:
    fresh = not _has_tables(using)
    _check_migrations(manifest, using=using, fresh=fresh)
    if not fresh and not force:
        _check_empty(using)
    conflicts = _media_conflicts(manifest, media_root)
    if conflicts and not force:
        raise BackupError(f"MEDIA_ROOT holds other files under the archive's names ({', '.join(conflicts[:3])}"
                          f"{' …' if len(conflicts) > 3 else ''}); use --force to overwrite them. Nothing was changed.")
    if fresh:
        call_command("migrate", database=using, interactive=False, verbosity=0)
    written = _place_media(manifest, staging, media_root)
    try:
        _load_rows(manifest, staging / archive.DATABASE, using=using)
    except BaseException:
        for target in written:
            target.unlink(missing_ok=True)
        raise
    return RestoreResult(rows=sum(manifest.rows.values()), media_files=len(manifest.media),
                         media_written=len(written), warnings=_warnings(manifest))


def _has_tables(using: str) -> bool:
    return MigrationRecorder.Migration._meta.db_table in connections[using].introspection.table_names()


def _check_migrations(manifest: Manifest, *, using: str, fresh: bool) -> None:
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    known_apps = {app for app, _ in loader.graph.nodes}
    target = set(loader.graph.nodes) if fresh else set(loader.applied_migrations or {})
    archived = {m for m in manifest.migrations if m[0] in known_apps}
    target = {m for m in target if m[0] in known_apps}
    if archived != target:
        only_archive = sorted(archived - target)[:3]
        only_target = sorted(target - archived)[:3]
        raise BackupError(
            "The archive was made under other migrations than this database has "
            f"(only in the archive: {only_archive or 'none'}; only here: {only_target or 'none'}). "
            "Restore with the code version that made the backup, then migrate. Nothing was changed.")


def _check_empty(using: str) -> None:
    holding = []
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in MIGRATE_MADE_TABLES:
            continue
        if rows := model._base_manager.using(using).exclude(**MIGRATE_MADE_ROWS.get(label, {})).count():
            holding.append(f"{model._meta.label} ({rows})")
    if holding:
        raise BackupError(f"The database is not empty: {', '.join(holding[:6])}"
                          f"{' …' if len(holding) > 6 else ''}. Restore into an empty database, or add "
                          "--force to replace everything in it. Nothing was changed.")


def _media_conflicts(manifest: Manifest, media_root: Path) -> list[str]:
    conflicts = []
    for entry in manifest.media:
        target = media_root / entry.name.removeprefix(archive.MEDIA_PREFIX)
        if target.exists() and (not target.is_file() or archive.sha256_of(target) != entry.sha256):
            conflicts.append(entry.name.removeprefix(archive.MEDIA_PREFIX))
    return conflicts


def _place_media(manifest: Manifest, staging: Path, media_root: Path) -> list[Path]:
    """Move the checked files into MEDIA_ROOT (before the rows that name them); returns those written."""
    written = []
    for entry in manifest.media:
        target = media_root / entry.name.removeprefix(archive.MEDIA_PREFIX)
        if target.is_file() and archive.sha256_of(target) == entry.sha256:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / entry.name, target)
        written.append(target)
    return written


def _load_rows(manifest: Manifest, dump: Path, *, using: str) -> None:
    """Empty every table and load the dump, in one transaction; any surprise rolls it all back."""
    connection = connections[using]
    with transaction.atomic(using=using):
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), tables))
        call_command("loaddata", str(dump), database=using, verbosity=0, stdout=io.StringIO())
        wrong = {label: (model._base_manager.using(using).count(), manifest.rows[label])
                 for model in backed_up_models() if (label := model._meta.label_lower) in manifest.rows
                 and model._base_manager.using(using).count() != manifest.rows[label]}
        if wrong:
            raise BackupError(f"Rows loaded differ from the manifest (loaded, expected): {wrong}. Nothing was changed.")


def _warnings(manifest: Manifest) -> list[str]:
    warnings = [f"The backup was taken with {len(manifest.missing_media)} referenced media file(s) already "
                f"missing: {', '.join(manifest.missing_media[:5])}"] if manifest.missing_media else []
    for model_label, paths in _model_folders_missing().items():
        warnings.append(f"{model_label}: folder {paths} is not there (was MEDIA_ROOT {manifest.source.get('media_root')}"
                        " on the backed-up machine? keep MEDIA_ROOT at the same path)")
    return warnings


def _model_folders_missing() -> dict[str, str]:
    from analysis.models import EmotionModelVersion, WordsModelVersion
    from analysis.selectors import emotion_model_folder
    from analysis.words_registry import words_model_folder

    folders = [(v.name, emotion_model_folder(v)) for v in EmotionModelVersion.objects.all()]
    folders += [(v.name, words_model_folder(v)) for v in WordsModelVersion.objects.all()]
    return {name: str(folder) for name, folder in folders if not folder.is_dir()}
