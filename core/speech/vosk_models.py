"""Vosk model discovery, checks and installation: plain Python, no Django.

A models folder holds one sub-folder per unpacked Vosk model, named as the official archive
(``vosk-model-small-en-in-0.4``) or simply after the language (``en``, ``en-IN``, ``hi``).
The folder comes from the caller, else the ``SPEECH_MODELS_DIR`` environment variable, else
``<repo>/var/speech-models``.

``install_model(name, models_dir)`` downloads an official archive, checks it (size and checksum
where published, the files a model needs, no Git LFS pointer files), unpacks it without letting
any member escape the target folder, and moves it into place only when everything passed.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

LANGUAGES = ("en", "en-IN", "hi")
DEFAULT_BASE_URL = "https://alphacephei.com/vosk/models"
MODEL_LIST_NAME = "model-list.json"  # published next to the archives: name, size, md5 per model

# Official models this portal knows how to use (language codes follow this project).
KNOWN_MODELS: dict[str, str] = {
    "vosk-model-small-en-us-0.15": "en",
    "vosk-model-en-us-0.22": "en",
    "vosk-model-en-us-0.22-lgraph": "en",
    "vosk-model-small-en-in-0.4": "en-IN",
    "vosk-model-en-in-0.5": "en-IN",
    "vosk-model-small-hi-0.22": "hi",
    "vosk-model-hi-0.22": "hi",
}

# Limits for a downloaded archive (the largest official models above are under 2 GB).
MAX_ARCHIVE_BYTES = 4 * 1024**3
MAX_UNPACKED_BYTES = 8 * 1024**3
MAX_MEMBERS = 20_000
LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"

_NAME_RE = re.compile(r"^vosk-model-(?:small-)?(?P<lang>[a-z]{2}(?:-[a-z]{2})?)-[0-9][\w.\-]*$")
_LANG_ALIASES = {"en": "en", "en-us": "en", "en-in": "en-IN", "hi": "hi"}


class ModelError(RuntimeError):
    """A model folder that cannot be used; the message says which file is wrong."""


class ModelInstallError(RuntimeError):
    """An installation that was refused or failed; nothing was changed in the models folder."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    language: str
    small: bool
    version: tuple[int, ...]

    @property
    def explicit(self) -> bool:
        """A folder named after the language is the admin's explicit choice."""
        return self.name.lower() in _LANG_ALIASES

    @property
    def rank(self) -> tuple[bool, bool, tuple[int, ...]]:
        # The admin's explicit choice first; then larger models (more accurate), newer versions.
        return (self.explicit, not self.small, self.version)


def normalise_language(language: str) -> str:
    key = (language or "").strip().replace("_", "-").lower()
    if key not in _LANG_ALIASES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return _LANG_ALIASES[key]


def default_models_dir() -> Path:
    env = os.environ.get("SPEECH_MODELS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "var" / "speech-models"


def language_of(name: str) -> str | None:
    """The project language a model folder or archive name serves, or None."""
    if name in KNOWN_MODELS:
        return KNOWN_MODELS[name]
    lowered = name.lower()
    if lowered in _LANG_ALIASES:
        return _LANG_ALIASES[lowered]
    match = _NAME_RE.match(lowered)
    if match:
        return _LANG_ALIASES.get(match.group("lang"))
    return None


def _version(name: str) -> tuple[int, ...]:
    match = re.search(r"-(\d+(?:\.\d+)*)", name)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def is_lfs_pointer(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(LFS_POINTER_PREFIX)) == LFS_POINTER_PREFIX
    except OSError:
        return False


def check_model_dir(path: str | Path) -> None:
    """Raise ModelError unless `path` holds the files a Vosk model needs, none of them a stub."""
    root = Path(path)
    if not root.is_dir():
        raise ModelError(f"{root}: not a folder")
    problems: list[str] = []
    required = [root / "am" / "final.mdl", root / "conf" / "mfcc.conf"]
    graph = root / "graph"
    if (graph / "HCLG.fst").exists():
        required.append(graph / "HCLG.fst")
    elif (graph / "HCLr.fst").exists() or (graph / "Gr.fst").exists():
        required += [graph / "HCLr.fst", graph / "Gr.fst"]
    else:
        problems.append("graph/HCLG.fst (or graph/HCLr.fst with graph/Gr.fst) is missing")
    for file in required:
        rel = file.relative_to(root).as_posix()
        if not file.is_file():
            problems.append(f"{rel} is missing")
        elif file.stat().st_size == 0:
            problems.append(f"{rel} is empty")
    for file in root.rglob("*"):
        if file.is_symlink():
            problems.append(f"{file.relative_to(root).as_posix()} is a symbolic link")
        elif file.is_file() and is_lfs_pointer(file):
            problems.append(
                f"{file.relative_to(root).as_posix()} is a Git LFS pointer, not the model data"
            )
    if problems:
        raise ModelError(f"{root.name}: not a usable Vosk model: " + "; ".join(problems))


def find_models(models_dir: str | Path | None = None) -> list[ModelInfo]:
    """Every model folder in `models_dir` that names a known language and passes the checks."""
    root = Path(models_dir) if models_dir is not None else default_models_dir()
    found: list[ModelInfo] = []
    if not root.is_dir():
        return found
    for child in sorted(root.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue
        language = language_of(child.name)
        if language is None:
            continue
        try:
            check_model_dir(child)
        except ModelError:
            continue
        found.append(
            ModelInfo(
                name=child.name,
                path=child,
                language=language,
                small="small" in child.name.lower(),
                version=_version(child.name),
            )
        )
    return found


# Which installed models may serve a language, best first: an Indian-English model also
# serves plain English and vice versa, but only after the exact language.
_FALLBACKS = {"en": ("en", "en-IN"), "en-IN": ("en-IN", "en"), "hi": ("hi",)}


def best_model(language: str, models_dir: str | Path | None = None) -> ModelInfo | None:
    language = normalise_language(language)
    models = find_models(models_dir)
    for lang in _FALLBACKS[language]:
        candidates = [m for m in models if m.language == lang]
        if candidates:
            return max(candidates, key=lambda m: m.rank)
    return None


# --------------------------------------------------------------------------------- installer


def _base_url() -> str:
    return os.environ.get("VOSK_MODEL_BASE_URL", DEFAULT_BASE_URL).rstrip("/")


def _open(url: str, timeout: float) -> http.client.HTTPResponse:
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(  # noqa: S310 (http/https only, checked)
            url, timeout=timeout
        )
        return response
    except urllib.error.HTTPError as exc:
        raise ModelInstallError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelInstallError(
            f"cannot download {url}: {reason}. This machine looks offline; copy an unpacked "
            "model folder into the models folder instead, or install from a reachable mirror "
            "(VOSK_MODEL_BASE_URL)."
        ) from exc


def published_info(name: str, base_url: str, timeout: float = 30.0) -> dict[str, Any]:
    """The model list's entry for `name` ({} when the list is unavailable or lacks it)."""
    try:
        with _open(f"{base_url}/{MODEL_LIST_NAME}", timeout) as resp:
            entries = json.loads(resp.read(10 * 1024**2).decode("utf-8"))
    except (ModelInstallError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(entries, list):
        return {}
    for entry in entries:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return {}


def _safe_members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if not members:
        raise ModelInstallError("the archive is empty")
    if len(members) > MAX_MEMBERS:
        raise ModelInstallError(f"the archive has too many members ({len(members)})")
    total = 0
    for info in members:
        raw = info.filename
        path = PurePosixPath(raw.replace("\\", "/"))
        if raw.startswith(("/", "\\")) or path.is_absolute() or re.match(r"^[A-Za-z]:", raw):
            raise ModelInstallError(f"refused: archive member {raw!r} has an absolute path")
        if ".." in path.parts:
            raise ModelInstallError(f"refused: archive member {raw!r} escapes the target folder")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ModelInstallError(f"refused: archive member {raw!r} is a symbolic link")
        total += info.file_size
        if total > MAX_UNPACKED_BYTES:
            raise ModelInstallError("refused: the archive unpacks to more than the size limit")
    return members


def install_model(
    name: str,
    models_dir: str | Path | None = None,
    *,
    base_url: str | None = None,
    url: str | None = None,
    sha256: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download, check and unpack the official model archive `name`; return its folder.

    Raises ModelInstallError with a clear message (offline, HTTP error, size or checksum
    mismatch, corrupt archive, unsafe member path, model files missing); the models folder is
    left as it was in every failure.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-_]*", name or ""):
        raise ModelInstallError(f"invalid model name {name!r}")
    if language_of(name) is None:
        raise ModelInstallError(
            f"{name}: not a model for a supported language ({', '.join(LANGUAGES)}); known "
            f"models: {', '.join(KNOWN_MODELS)}"
        )
    root = Path(models_dir) if models_dir is not None else default_models_dir()
    target = root / name
    if target.exists() and not force:
        try:
            check_model_dir(target)
        except ModelError:
            pass
        else:
            raise ModelInstallError(f"{name} is already installed in {root} (use --force)")
    base = (base_url or _base_url()).rstrip("/")
    url = url or f"{base}/{name}.zip"
    if not url.startswith(("http://", "https://")):
        raise ModelInstallError(f"refused: only http(s) downloads are allowed, not {url!r}")
    info = published_info(name, base, timeout=timeout) if not sha256 else {}
    expected_size = info.get("size")
    expected_md5 = info.get("md5")
    expected_sha256 = (sha256 or info.get("sha256") or "").lower() or None

    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".install-{name}-", dir=root))
    try:
        archive_path = work / f"{name}.zip"
        sha = hashlib.sha256()
        md5 = hashlib.md5()  # noqa: S324 (the published checksum, not security on its own)
        size = 0
        with _open(url, timeout) as resp, open(archive_path, "wb") as out:
            declared = resp.headers.get("Content-Length")
            if declared and int(declared) > MAX_ARCHIVE_BYTES:
                raise ModelInstallError("refused: the archive is larger than the size limit")
            while True:
                try:
                    block = resp.read(1 << 20)
                except (OSError, ValueError, http.client.HTTPException) as exc:
                    raise ModelInstallError(f"download of {url} was interrupted: {exc}") from exc
                if not block:
                    break
                size += len(block)
                if size > MAX_ARCHIVE_BYTES:
                    raise ModelInstallError("refused: the archive is larger than the size limit")
                sha.update(block)
                md5.update(block)
                out.write(block)
                if progress:
                    progress(size, int(declared) if declared else None)
        if declared and size != int(declared):
            raise ModelInstallError(
                f"download of {url} is truncated: {size} of {declared} bytes arrived"
            )
        if expected_size is not None and size != int(expected_size):
            raise ModelInstallError(
                f"{name}: the archive has {size} bytes, the published size is {expected_size}"
            )
        if expected_sha256 and sha.hexdigest() != expected_sha256:
            raise ModelInstallError(f"{name}: sha256 mismatch (archive corrupt or altered)")
        if expected_md5 and md5.hexdigest() != str(expected_md5).lower():
            raise ModelInstallError(f"{name}: md5 mismatch (archive corrupt or altered)")
        try:
            archive = zipfile.ZipFile(archive_path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelInstallError(f"{name}: the archive is corrupt or truncated ({exc})") from exc
        unpack = work / "unpacked"
        unpack.mkdir()
        with archive:
            members = _safe_members(archive, name)
            bad = None
            try:
                bad = archive.testzip()
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ModelInstallError(f"{name}: the archive is corrupt ({exc})") from exc
            if bad is not None:
                raise ModelInstallError(f"{name}: the archive is corrupt (bad member {bad})")
            for member in members:
                dest = (unpack / member.filename).resolve()
                if not dest.is_relative_to(unpack.resolve()):
                    raise ModelInstallError(f"refused: {member.filename!r} escapes the folder")
                try:
                    archive.extract(member, unpack)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise ModelInstallError(f"{name}: the archive is corrupt ({exc})") from exc
        entries = [p for p in unpack.iterdir()]
        model_root = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpack
        try:
            check_model_dir(model_root)
        except ModelError as exc:
            raise ModelInstallError(str(exc).replace(model_root.name, name, 1)) from exc
        if target.exists():
            old = work / "previous"
            target.rename(old)
        model_root.rename(target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)
