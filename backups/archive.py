"""The backup archive: one uncompressed tar holding the database dump, MEDIA_ROOT and a manifest.

    database.fulljson.gz every row, as Django's JSON serialiser writes it (``dumpdata``), with times
                         to the microsecond (backups.serializer)
    media/<path>         every file under MEDIA_ROOT, byte for byte
    manifest.json        written last: format, source, row counts per model, applied migrations,
                         and the size and sha256 of every other member

Uncompressed, because the bulk is audio that gzip barely shrinks (the dump inside is gzipped).
Reading never trusts the archive: each member must be a plain file with a plain relative name
listed in the manifest with that size and sha256, and every listed file must be there; anything
else is an ``ArchiveError`` raised before the caller changes anything. Plain Python, no Django.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

FORMAT = "emergency-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "database.fulljson.gz"  # loaddata reads the format from the name (backups.serializer)
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024


class ArchiveError(Exception):
    """The archive is corrupt, partial or not a backup of this portal."""


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    sha256: str


@dataclass
class Manifest:
    created_at: str
    source: dict[str, Any]
    rows: dict[str, int]
    migrations: list[tuple[str, str]]
    entries: dict[str, Entry] = field(default_factory=dict)
    missing_media: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        data = {"format": FORMAT, "version": FORMAT_VERSION, "created_at": self.created_at, "source": self.source,
                "rows": self.rows, "migrations": [list(m) for m in self.migrations],
                "files": [vars(e) for e in sorted(self.entries.values(), key=lambda e: e.name)],
                "missing_media": self.missing_media}
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
                raise ArchiveError(f"not a {FORMAT} archive of version {FORMAT_VERSION} "
                                   f"(found {data.get('format')!r} version {data.get('version')!r})")
            entries = {f["name"]: Entry(str(f["name"]), int(f["size"]), str(f["sha256"])) for f in data["files"]}
            return cls(created_at=str(data["created_at"]), source=dict(data["source"]),
                       rows={str(k): int(v) for k, v in data["rows"].items()},
                       migrations=[(str(a), str(n)) for a, n in data["migrations"]],
                       entries=entries, missing_media=[str(p) for p in data.get("missing_media", [])])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ArchiveError(f"the manifest is unreadable: {exc!r}") from exc

    @property
    def media(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.name.startswith(MEDIA_PREFIX)]


class _Hashing:
    """A file reader that hashes what passes through it (one read of each file, not two)."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.stream.read(n)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


class Writer:
    """Writes ``<path>.partial``, then renames it: a backup cut short never has the final name."""

    def __init__(self, path: Path):
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.entries: dict[str, Entry] = {}
        self.tar = tarfile.open(self.partial, "w", format=tarfile.PAX_FORMAT)

    def add_file(self, source: Path, name: str) -> Entry:
        with source.open("rb") as stream:
            info = self.tar.gettarinfo(fileobj=stream, arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            reader = _Hashing(stream)
            self.tar.addfile(info, reader)  # reads exactly info.size bytes
        entry = Entry(name, reader.size, reader.digest.hexdigest())
        self.entries[name] = entry
        return entry

    def finish(self, manifest: Manifest) -> Path:
        manifest.entries = dict(self.entries)
        raw = manifest.to_json()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(raw)
        info.mode = 0o644
        info.mtime = int(time.time())
        self.tar.addfile(info, _BytesReader(raw))
        self.tar.close()
        with self.partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(self.partial, self.path)
        return self.path

    def abandon(self) -> None:
        self.tar.close()
        self.partial.unlink(missing_ok=True)


class _BytesReader:
    def __init__(self, raw: bytes):
        self.raw, self.offset = raw, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.raw) if n < 0 else self.offset + n
        chunk, self.offset = self.raw[self.offset:end], min(end, len(self.raw))
        return chunk


def member_name_ok(name: str) -> bool:
    """A plain relative POSIX name: no absolute path, no '..', no empty or '.' parts, no backslash."""
    path = PurePosixPath(name)
    return (bool(name) and not path.is_absolute() and "\\" not in name and "\x00" not in name
            and all(part not in ("", ".", "..") for part in name.split("/")))


def extract_verified(archive: Path, staging: Path) -> Manifest:
    """Extract every member into ``staging`` and check it against the manifest; raise ArchiveError.

    Files are hashed as they are written, so the archive is read once. The caller deletes
    ``staging`` whatever happens, and changes nothing else before this returns."""
    seen: dict[str, Entry] = {}
    manifest_raw: bytes | None = None
    try:
        with tarfile.open(archive, "r:") as tar:
            for member in _members(tar):
                if member.name == MANIFEST:
                    manifest_raw = _read(tar, member, limit=64 * 1024 * 1024)
                    continue
                seen[member.name] = _extract(tar, member, staging / member.name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ArchiveError(f"the archive is truncated or corrupt: {exc}") from exc
    if manifest_raw is None:
        raise ArchiveError(f"the archive has no {MANIFEST}: it is partial or not a backup")
    manifest = Manifest.from_json(manifest_raw)
    _compare(manifest.entries, seen)
    return manifest


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    names: set[str] = set()
    for member in tar:
        if not member_name_ok(member.name):
            raise ArchiveError(f"the archive names a path outside the backup: {member.name!r}")
        if not member.isreg():
            raise ArchiveError(f"the archive holds something other than a plain file: {member.name!r}")
        if member.name in names:
            raise ArchiveError(f"the archive holds {member.name!r} twice")
        if member.name not in (MANIFEST, DATABASE) and not member.name.startswith(MEDIA_PREFIX):
            raise ArchiveError(f"the archive holds an unexpected file: {member.name!r}")
        names.add(member.name)
        yield member


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo, *, limit: int) -> bytes:
    if member.size > limit:
        raise ArchiveError(f"{member.name} is implausibly large ({member.size} bytes)")
    stream = tar.extractfile(member)
    assert stream is not None  # a regular file, checked above
    return stream.read()


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> Entry:
    stream = tar.extractfile(member)
    assert stream is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with target.open("xb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != member.size:
        raise ArchiveError(f"{member.name} is cut short ({size} of {member.size} bytes)")
    return Entry(member.name, size, digest.hexdigest())


def _compare(listed: dict[str, Entry], seen: dict[str, Entry]) -> None:
    problems = []
    for name in sorted(set(listed) - set(seen)):
        problems.append(f"{name} is listed in the manifest but not in the archive")
    for name in sorted(set(seen) - set(listed)):
        problems.append(f"{name} is in the archive but not in the manifest")
    for name in sorted(set(listed) & set(seen)):
        if listed[name] != seen[name]:
            problems.append(f"{name} does not match the manifest (sha256 {seen[name].sha256[:12]}…, "
                            f"{seen[name].size} bytes; expected {listed[name].sha256[:12]}…, {listed[name].size} bytes)")
    if DATABASE not in listed:
        problems.append(f"the archive has no {DATABASE}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ArchiveError("; ".join(problems[:5]) + more)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
