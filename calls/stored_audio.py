"""A recording's audio, read through Django's storage API and never through a local path.

Workers on other machines (the emotion and words queues) and the web servers all read the files
the intake stored: with a shared volume, or with any other storage backend (STORAGES["default"]),
only the storage's own ``open()`` works everywhere; ``FieldFile.path`` exists only for a local
filesystem storage. Where a library wants a file name (the transcriber streams a file block by
block), :func:`local_copy` gives it a private temporary copy.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf
from django.db.models.fields.files import FieldFile

from core import audio


def stored_samples(field: FieldFile) -> np.ndarray:
    """The stored audio as mono float32 at 16 kHz (the normalised copy is that already: no decoding)."""
    with field.open("rb") as handle:
        data = handle.read()
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        rate = None
    if rate == audio.TARGET_SAMPLE_RATE:
        mono: np.ndarray = samples.mean(axis=1).astype(np.float32)
        return mono
    with _temporary(data, Path(field.name or "").suffix) as path:  # another rate or format: the full decoder
        return audio.load(path)


@contextmanager
def local_copy(field: FieldFile) -> Iterator[Path]:
    """A temporary local file with the stored audio, removed on leaving the block."""
    suffix = Path(field.name or "").suffix
    with tempfile.NamedTemporaryFile(prefix="recording-", suffix=suffix) as copy, field.open("rb") as source:
        shutil.copyfileobj(source, copy, length=1024 * 1024)
        copy.flush()
        yield Path(copy.name)


@contextmanager
def _temporary(data: bytes, suffix: str) -> Iterator[Path]:
    with tempfile.NamedTemporaryFile(prefix="recording-", suffix=suffix) as copy:
        copy.write(data)
        copy.flush()
        yield Path(copy.name)
