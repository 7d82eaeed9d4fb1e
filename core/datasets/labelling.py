"""Which files of an imported dataset are labelled clips, and why the others are not.

A ``manifest.csv`` at the top (columns path, label, speaker, gender: the CSV scheme, and what the
audit export writes) labels the files it lists; otherwise file names do (RAVDESS, or the 112
scheme ``EE_SS_GG_TT_PP``, whose synthetic copies keep their source speaker). Plain Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.emotion.datasets import AUDIO_SUFFIXES, Clip, DatasetError, parse_name, read_manifest

MANIFEST = "manifest.csv"


@dataclass
class Labelled:
    clips: list[Clip]
    refused: list[tuple[str, str]]  # (file, why)
    scheme: str


def label_files(root: Path, files: Sequence[Path]) -> Labelled:
    """Label ``files`` (all under ``root``); raises DatasetError when the manifest is unusable."""
    manifest = root / MANIFEST
    if manifest in files:
        return _from_manifest(root, manifest, files)
    clips, refused = [], []
    for path in sorted(files):
        name = path.relative_to(root).as_posix()
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            refused.append((name, "not an audio file (by its name)"))
            continue
        parsed = parse_name(path.name)
        if parsed is None:
            refused.append((name, "the name follows neither RAVDESS nor the 112 scheme, and no manifest.csv lists it"))
            continue
        scheme, info = parsed
        clips.append(Clip(path=path, scheme=scheme, **info))
    schemes = sorted({c.scheme for c in clips})
    if len(schemes) > 1:
        raise DatasetError(f"the files mix naming schemes ({', '.join(schemes)}): import one scheme at a time")
    return Labelled(clips, refused, schemes[0] if schemes else "")


def _from_manifest(root: Path, manifest: Path, files: Sequence[Path]) -> Labelled:
    clips = read_manifest(manifest, scheme="manifest", require_files=False)
    listed = {c.path.resolve() for c in clips}
    present = {f.resolve() for f in files}
    refused = [(str(c.path.relative_to(root)) if c.path.resolve().is_relative_to(root.resolve()) else str(c.path),
                "listed in the manifest but not among the files") for c in clips if c.path.resolve() not in present]
    refused += [(f.relative_to(root).as_posix(), "not listed in manifest.csv")
                for f in sorted(files) if f != manifest and f.resolve() not in listed]
    kept = [c for c in clips if c.path.resolve() in present and c.path.resolve().is_relative_to(root.resolve())]
    bad_label = [c for c in kept if not c.label]
    refused += [(c.path.relative_to(root).as_posix(), "no label in the manifest") for c in bad_label]
    return Labelled([c for c in kept if c.label], refused, "manifest")


__all__ = ["MANIFEST", "DatasetError", "Labelled", "label_files"]
