"""Open an uploaded dataset archive (zip, tar, tar.gz) as if it were hostile, because it may be.

Every member is checked before anything is written, and sizes are counted while extracting
(headers can lie): zip bombs (a member's or the whole archive's expansion ratio, the total size),
path traversal and absolute paths, links (symbolic and hard), device files and FIFOs, duplicate
names, too many members. A refused member gets a line saying why; the archive as a whole is
refused only when continuing would be unsafe (a bomb, too many members). Nothing is written
outside the target folder, and a member cut short is removed. Plain Python, no Django.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

CHUNK = 1 << 16


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 20_000
    max_member_bytes: int = 200 * 2**20  # one audio file
    max_total_bytes: int = 4 * 2**30  # everything extracted
    max_ratio: float = 200.0  # uncompressed / compressed, per member and overall


class ArchiveRefused(ValueError):
    """The archive as a whole cannot be opened safely (the message says why)."""


@dataclass
class Extracted:
    files: list[tuple[str, Path]] = field(default_factory=list)  # (name in the archive, where it is now)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name in the archive, why)


@dataclass(frozen=True)
class _Member:
    name: str
    kind: str  # "file" | "dir" | "symlink" | "hardlink" | "device"
    compressed_size: int  # 0 when unknown (tar members)
    open: object  # () -> binary stream, for files


def safe_relative_path(name: str) -> PurePosixPath | str:
    """The member's path inside the target, or why it may not be written."""
    if not name or "\x00" in name:
        return "empty or invalid name"
    if "\\" in name:
        return "backslash in the name (a Windows path)"
    path = PurePosixPath(name)
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if any(part == ".." for part in path.parts):
        return "path leaves the archive's folder (..)"
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts:
        return "empty or invalid name"
    return PurePosixPath(*parts)


def archive_kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(262)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "tar.gz"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    raise ArchiveRefused("not a zip, tar or tar.gz archive")


@contextmanager
def _members(path: Path, kind: str) -> Iterator[Iterator[_Member]]:
    if kind == "zip":
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveRefused(f"the zip archive is corrupt ({exc})") from exc
        with archive:
            yield (_zip_member(archive, info) for info in archive.infolist())
        return
    try:
        tar = tarfile.open(path, mode="r:gz" if kind == "tar.gz" else "r:")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveRefused(f"the tar archive is corrupt ({exc})") from exc
    with tar:
        yield (_tar_member(tar, info) for info in tar)


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Member:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        kind = "symlink"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        kind = "device"
    elif info.is_dir():
        kind = "dir"
    else:
        kind = "file"
    return _Member(info.filename, kind, info.compress_size, lambda: archive.open(info))


def _tar_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> _Member:
    kind = ("symlink" if info.issym() else "hardlink" if info.islnk() else "dir" if info.isdir()
            else "file" if info.isfile() else "device")
    return _Member(info.name, kind, 0, lambda: tar.extractfile(info))


def extract(path: Path, target: Path, limits: ArchiveLimits = ArchiveLimits()) -> Extracted:
    """Extract the archive's regular files under ``target`` (created); raise ArchiveRefused when the
    whole archive is unsafe, after removing what it had written."""
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    archive_bytes = max(1, path.stat().st_size)
    result = Extracted()
    seen: set[str] = set()
    total = 0
    try:
        with _members(path, archive_kind(path)) as members:
            for count, member in enumerate(members, start=1):
                if count > limits.max_members:
                    raise ArchiveRefused(f"more than {limits.max_members} members")
                if member.kind == "dir":
                    continue
                relative = safe_relative_path(member.name)
                if isinstance(relative, str):
                    result.refused.append((member.name, relative))
                    continue
                if member.kind != "file":
                    result.refused.append((member.name, {"symlink": "symbolic link", "hardlink": "hard link",
                                                         "device": "device file or FIFO"}[member.kind]))
                    continue
                key = relative.as_posix().lower()
                if key in seen:
                    result.refused.append((member.name, "duplicate name"))
                    continue
                seen.add(key)
                destination = (root / relative).resolve()
                if not destination.is_relative_to(root):
                    result.refused.append((member.name, "path leaves the archive's folder"))
                    continue
                total += _copy(member, destination, limits, total, archive_bytes)
                result.files.append((member.name, destination))
    except ArchiveRefused:
        for _name, written in result.files:
            written.unlink(missing_ok=True)
        raise
    return result


def _copy(member: _Member, destination: Path, limits: ArchiveLimits, total_before: int, archive_bytes: int) -> int:
    """Copy one member, counting bytes as they come; returns its size."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        source: IO[bytes] | None = member.open()  # type: ignore[operator]
        if source is None:
            raise ArchiveRefused(f"{member.name}: cannot be read")
        with source, destination.open("xb") as out:
            while block := source.read(CHUNK):
                written += len(block)
                out.write(block)
                _check(member, written, total_before + written, limits, archive_bytes)
    except ArchiveRefused:
        destination.unlink(missing_ok=True)
        raise
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        destination.unlink(missing_ok=True)
        raise ArchiveRefused(f"{member.name}: the archive is corrupt ({exc})") from exc
    return written


def _check(member: _Member, written: int, total: int, limits: ArchiveLimits, archive_bytes: int) -> None:
    if written > limits.max_member_bytes:
        raise ArchiveRefused(f"{member.name}: larger than {limits.max_member_bytes // 2**20} MB (a zip bomb?)")
    if total > limits.max_total_bytes:
        raise ArchiveRefused(f"more than {limits.max_total_bytes // 2**20} MB in all (a zip bomb?)")
    if member.compressed_size and written > 1_000_000 and written / member.compressed_size > limits.max_ratio:
        raise ArchiveRefused(f"{member.name}: expands more than {limits.max_ratio:g} times (a zip bomb?)")
    if total > 10_000_000 and total / archive_bytes > limits.max_ratio:
        raise ArchiveRefused(f"the archive expands more than {limits.max_ratio:g} times (a zip bomb?)")
