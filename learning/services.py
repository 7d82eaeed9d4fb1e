"""Dataset imports: one function per verb. The archive and label handling is the pure core's
(core.datasets); here the job is recorded, run in the background, and its clips stored once."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from calls.exceptions import NotAllowed
from core.audio import AudioError, decode, is_silent
from core.datasets.archive import ArchiveRefused, extract
from core.datasets.attributes import clip_attributes
from core.datasets.labelling import label_files
from core.emotion.datasets import Clip, DatasetError

from .exceptions import DatasetRefused
from .jobs import IMPORT_DATASET, job_dispatch
from .models import ClipChange, Dataset, DatasetClip, ImportState

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 10  # clips between progress saves


def datasets_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "datasets"


def dataset_create(*, admin: Any, name: str, archive: UploadedFile | None = None, folder: str = "",
                   background: bool = True) -> Dataset:
    """Record an import and start it in the background after the commit (``background=False``: the
    caller runs ``dataset_import_run`` itself, as the command does)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can import datasets.")
    name = name.strip()
    if not name:
        raise DatasetRefused("Give the dataset a name.")
    if Dataset.objects.filter(name=name).exists():
        raise DatasetRefused(f"A dataset named {name!r} exists already.")
    if (archive is None) == (not folder.strip()):
        raise DatasetRefused("Upload an archive or name a server folder (one of the two).")
    if archive is not None:
        upload = _store_upload(archive)
        source, details = archive.name or "archive", {"upload": str(upload)}
    else:
        resolved = _allowed_folder(folder.strip())
        source, details = str(resolved), {"folder": str(resolved)}
    dataset = Dataset.objects.create(name=name, source=source[:500], created_by=admin, report=details)
    if background:
        transaction.on_commit(partial(dataset_import_dispatch, dataset_id=dataset.pk))
    return dataset


def dataset_import_dispatch(*, dataset_id: int) -> None:
    job_dispatch(task=IMPORT_DATASET, job_id=dataset_id, run=partial(dataset_import_run, dataset_id=dataset_id))


def _store_upload(archive: UploadedFile) -> Path:
    if archive.size and archive.size > settings.DATASET_MAX_UPLOAD_MB * 2**20:
        raise DatasetRefused(f"The archive is larger than {settings.DATASET_MAX_UPLOAD_MB} MB.")
    uploads = datasets_dir() / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    path = uploads / f"{uuid.uuid4().hex}.archive"  # the uploaded name is never used for a path
    with path.open("xb") as out:
        for chunk in archive.chunks():
            out.write(chunk)
    return path


def _allowed_folder(folder: str) -> Path:
    path = Path(folder).resolve()
    roots = [Path(root).resolve() for root in settings.DATASET_IMPORT_ROOTS]
    if not any(path.is_relative_to(root) for root in roots):
        raise DatasetRefused(f"Server folders can be imported only from: {', '.join(str(r) for r in roots)}.")
    if not path.is_dir():
        raise DatasetRefused(f"{path} is not a folder.")
    return path


def dataset_import_run(*, dataset_id: int) -> Dataset:
    """The background job: extract (or walk), label, decode and store each clip once; report."""
    # Claimed in one conditional UPDATE: a redelivered task, or a second runner, finds it taken.
    if not Dataset.objects.filter(pk=dataset_id, state=ImportState.PENDING).update(state=ImportState.IMPORTING):
        return Dataset.objects.get(pk=dataset_id)
    dataset = Dataset.objects.get(pk=dataset_id)
    work_root = datasets_dir() / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    upload = dataset.report.get("upload")
    try:
        with tempfile.TemporaryDirectory(dir=work_root) as work:
            root, files, refused = _files(dataset, Path(work))
            labelled = label_files(root, files)
            taken = _store_clips(dataset, root, labelled.clips, refused)
        report = {"taken": taken, "refused": [{"file": f, "why": why} for f, why in refused + labelled.refused]}
        _update(dataset, state=ImportState.DONE, scheme=labelled.scheme, progress=1.0, report=report,
                finished_at=timezone.now())
    except (ArchiveRefused, DatasetError) as exc:
        _update(dataset, state=ImportState.FAILED, error=str(exc), finished_at=timezone.now())
    except Exception as exc:  # the job must end visibly, whatever happened
        logger.exception("Import of dataset %s failed", dataset.pk)
        _update(dataset, state=ImportState.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now())
    finally:
        if upload:
            Path(upload).unlink(missing_ok=True)
    return dataset


def _files(dataset: Dataset, work: Path) -> tuple[Path, list[Path], list[tuple[str, str]]]:
    upload = dataset.report.get("upload")
    if upload:
        extracted = extract(Path(upload), work / "files")
        return (work / "files").resolve(), [path for _name, path in extracted.files], list(extracted.refused)
    root = Path(dataset.report["folder"])
    files, refused = [], []
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            refused.append((path.relative_to(root).as_posix(), "symbolic link"))
        elif path.is_file():
            files.append(path)
    return root, files, refused


def _store_clips(dataset: Dataset, root: Path, clips: list[Clip], refused: list[tuple[str, str]]) -> int:
    seen: dict[str, str] = {}
    taken = 0
    for i, clip in enumerate(clips):
        name = clip.path.relative_to(root).as_posix()
        data = clip.path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:
            refused.append((name, f"the same audio as {seen[sha]}"))
            continue
        try:
            decoded = decode(clip.path, max_seconds=settings.MAX_AUDIO_SECONDS)
        except AudioError as exc:
            refused.append((name, str(exc)))
            continue
        if is_silent(decoded.samples):
            refused.append((name, "silent"))
            continue
        seen[sha] = name
        stored = Path("datasets") / "clips" / sha[:2] / f"{sha}{clip.path.suffix.lower()}"
        target = Path(settings.MEDIA_ROOT) / stored
        if not target.exists():  # stored once, whichever dataset brought it first
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(clip.path, target)
        DatasetClip.objects.create(
            dataset=dataset, sha256=sha, audio=stored.as_posix(), original_name=name[:500], label=clip.label,
            speaker=clip.speaker, gender=clip.gender, synthetic=clip.extra.get("type") == "synthetic",
            duration_s=round(decoded.duration_s, 3), attributes=clip_attributes(decoded.samples),
        )
        taken += 1
        if (i + 1) % PROGRESS_EVERY == 0:
            _update(dataset, progress=(i + 1) / len(clips))
    return taken


def _update(dataset: Dataset, **fields: Any) -> None:
    for key, value in fields.items():
        setattr(dataset, key, value)
    dataset.save(update_fields=list(fields))


def clip_change(*, clip: DatasetClip, admin: Any, label: str, excluded: bool, reason: str) -> ClipChange:
    """Relabel or exclude a clip: logged, never destructive (the clip and its audio stay as imported)."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can relabel or exclude clips.")
    label = label.strip().lower()
    if not label or len(label) > 32:
        raise DatasetRefused("Give the clip a label (at most 32 characters).")
    if not reason.strip():
        raise DatasetRefused("Say why (it is kept with the change).")
    return ClipChange.objects.create(clip=clip, label=label, excluded=excluded, reason=reason.strip()[:500],
                                     changed_by=admin)
