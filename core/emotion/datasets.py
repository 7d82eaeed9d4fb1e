"""Labelled speech datasets read from file names: RAVDESS and the 112 agency scheme.

RAVDESS: ``03-01-EE-II-SS-RR-AA.wav|flac`` (modality, vocal channel, emotion, intensity,
statement, repetition, actor; odd actors are male, even actors female).
112 scheme: ``EE_SS_GG_TT_PP.wav`` (emotion 01 angry, 02 drunk, 03 painful, 04 stressful;
sentence; gender 01 female, 02 male; type 01 natural, 02 synthetic; speaker).
Plain Python: no Django.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".webm"}

RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
RAVDESS_LABELS = list(RAVDESS_EMOTIONS.values())
E112_EMOTIONS = {"01": "angry", "02": "drunk", "03": "painful", "04": "stressful"}
E112_LABELS = list(E112_EMOTIONS.values())

_RAVDESS_RE = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_E112_RE = re.compile(r"^(\d\d)_(\d\d)_(\d\d)_(\d\d)_(\d+)$")


class DatasetError(ValueError):
    """A dataset folder that cannot be used (missing, empty, unknown names)."""


@dataclass(frozen=True)
class Clip:
    path: Path
    label: str
    speaker: str
    gender: str  # 'female' | 'male' | 'unknown'
    scheme: str  # 'ravdess' | '112'
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def parse_ravdess_name(name: str) -> dict[str, Any] | None:
    m = _RAVDESS_RE.match(Path(name).stem)
    if not m:
        return None
    modality, channel, emo, intensity, statement, repetition, actor = m.groups()
    if emo not in RAVDESS_EMOTIONS or int(actor) < 1:
        return None
    return {
        "label": RAVDESS_EMOTIONS[emo],
        "speaker": f"{int(actor):02d}",
        "gender": "male" if int(actor) % 2 else "female",
        "extra": {
            "modality": modality,
            "vocal_channel": channel,
            "intensity": "strong" if intensity == "02" else "normal",
            "statement": statement,
            "repetition": repetition,
        },
    }


def parse_112_name(name: str) -> dict[str, Any] | None:
    m = _E112_RE.match(Path(name).stem)
    if not m:
        return None
    emo, sentence, gender, kind, speaker = m.groups()
    if emo not in E112_EMOTIONS or gender not in ("01", "02") or kind not in ("01", "02"):
        return None
    return {
        "label": E112_EMOTIONS[emo],
        "speaker": speaker,
        "gender": "female" if gender == "01" else "male",
        "extra": {"sentence": sentence, "type": "natural" if kind == "01" else "synthetic"},
    }


def parse_name(name: str) -> tuple[str, dict[str, Any]] | None:
    parsed = parse_ravdess_name(name)
    if parsed:
        return "ravdess", parsed
    parsed = parse_112_name(name)
    if parsed:
        return "112", parsed
    return None


def read_dataset(root: str | Path, *, scheme: str | None = None) -> list[Clip]:
    """Every audio file under `root` whose name follows a known scheme, sorted by path.

    Files in a known naming scheme but with an unknown code are skipped; a folder that mixes
    schemes, or has no recognisable file, raises DatasetError.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"Dataset folder not found: {root}")
    clips: list[Clip] = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for filename in filenames:
            path = Path(dirpath) / filename
            if path.suffix.lower() not in AUDIO_SUFFIXES:
                continue
            parsed = parse_name(filename)
            if parsed is None:
                continue
            found, info = parsed
            if scheme and found != scheme:
                continue
            clips.append(Clip(path=path, scheme=found, **info))
    if not clips:
        raise DatasetError(f"No audio files with RAVDESS or 112 names under {root}")
    schemes = {c.scheme for c in clips}
    if len(schemes) > 1:
        raise DatasetError(f"Dataset mixes naming schemes {sorted(schemes)}; use one per folder.")
    clips.sort(key=lambda c: str(c.path))
    return clips


def read_manifest(manifest: str | Path, *, label_column: str = "label", scheme: str = "manifest",
                  require_files: bool = True) -> list[Clip]:
    """Clips listed in a CSV manifest (columns path, label, speaker, gender; paths relative to the
    manifest's folder), sorted by path. Raises DatasetError for a missing column, or for a missing
    file unless ``require_files`` is off (the caller then checks which files exist)."""
    import csv

    manifest = Path(manifest)
    if not manifest.is_file():
        raise DatasetError(f"Manifest not found: {manifest}")
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    wanted = {"path", label_column, "speaker", "gender"}
    if not rows or not wanted <= set(rows[0]):
        raise DatasetError(f"{manifest}: needs the columns {', '.join(sorted(wanted))}")
    clips = []
    for row in rows:
        path = manifest.parent / row["path"]
        if require_files and not path.is_file():
            raise DatasetError(f"{manifest}: {row['path']} does not exist")
        gender = row["gender"].strip().lower()
        clips.append(Clip(path=path, label=row[label_column].strip().lower(), speaker=row["speaker"].strip(),
                          gender=gender if gender in ("female", "male") else "unknown", scheme=scheme))
    return sorted(clips, key=lambda c: str(c.path))


def default_emodb_dir() -> Path | None:
    """EMODB_DIR from the environment, else ../shared/data/emodb next to the repository."""
    env = os.environ.get("EMODB_DIR")
    if env:
        return Path(env)
    candidate = Path(__file__).resolve().parents[3] / "shared" / "data" / "emodb"
    return candidate if candidate.is_dir() else None


def labels_of(clips: Sequence[Clip]) -> list[str]:
    """Label list in the scheme's canonical order (only labels present in the clips)."""
    present = {c.label for c in clips}
    canonical = RAVDESS_LABELS if clips and clips[0].scheme == "ravdess" else E112_LABELS
    ordered = [lab for lab in canonical if lab in present]
    return ordered + sorted(present - set(ordered))


def speakers_of(clips: Iterable[Clip]) -> list[str]:
    return sorted({c.speaker for c in clips})


def speaker_genders(clips: Iterable[Clip]) -> dict[str, str]:
    return {c.speaker: c.gender for c in clips}


def fingerprint(clips: Sequence[Clip], root: str | Path) -> str:
    """sha256 over every clip's relative path, label, speaker and file content."""
    root = Path(root)
    digest = hashlib.sha256()
    for clip in sorted(clips, key=lambda c: str(c.path)):
        rel = clip.path.relative_to(root).as_posix()
        digest.update(f"{rel}\t{clip.label}\t{clip.speaker}\t{clip.gender}\n".encode())
        with open(clip.path, "rb") as fh:
            digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()


def default_ravdess_dir() -> Path | None:
    """RAVDESS_DIR from the environment, else ../shared/data/ravdess next to the repository."""
    env = os.environ.get("RAVDESS_DIR")
    if env:
        return Path(env)
    candidate = Path(__file__).resolve().parents[3] / "shared" / "data" / "ravdess"
    return candidate if candidate.is_dir() else None


def balanced_folds(clips: Sequence[Clip], n_folds: int) -> list[list[str]]:
    """Speakers split into n_folds groups, each with the same number of each gender.

    Speakers are sorted (numerically when they are numbers) and dealt by gender, so with
    RAVDESS and 6 folds each fold holds 2 male + 2 female actors: (1,2,3,4), (5,6,7,8), ...
    """
    genders = speaker_genders(clips)

    def key(s: str) -> tuple[int, int, str]:
        return (0, int(s), s) if s.isdigit() else (1, 0, s)

    by_gender: dict[str, list[str]] = {}
    for spk in sorted(genders, key=key):
        by_gender.setdefault(genders[spk], []).append(spk)
    folds: list[list[str]] = [[] for _ in range(n_folds)]
    for _gender, speakers in sorted(by_gender.items()):
        # Contiguous runs whose sizes differ by at most one (as numpy.array_split cuts), so every
        # fold gets speakers when there are at least n_folds of a gender: 6 over 4 folds is 2, 2, 1, 1.
        size, extra = divmod(len(speakers), n_folds)
        start = 0
        for k in range(n_folds):
            end = start + size + (1 if k < extra else 0)
            folds[k].extend(speakers[start:end])
            start = end
    return [sorted(f, key=key) for f in folds]
