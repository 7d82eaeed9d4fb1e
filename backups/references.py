"""The MEDIA_ROOT files the database names: what a backup must hold for its rows to make sense.

Read inside the backup's snapshot, so the list matches the dump. Three kinds of reference:
every FileField (recordings: original, normalised, picture), a dataset clip's stored audio (a
path relative to MEDIA_ROOT), and a trained model version's folder when it lies in MEDIA_ROOT
(shipped versions live in ml_models/, part of the code, not of a backup).
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

from analysis.models import EmotionModelVersion, WordsModelVersion
from learning.models import DatasetClip


def referenced_media(*, using: str) -> set[str]:
    """Paths relative to MEDIA_ROOT (POSIX); a model version's folder ends with '/'."""
    return _file_fields(using) | _dataset_clips(using) | _model_folders(using)


def _file_fields(using: str) -> set[str]:
    found: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                names = model._base_manager.using(using).exclude(**{field.name: ""}).values_list(field.name, flat=True)
                found.update(str(name) for name in names if name)
    return found


def _dataset_clips(using: str) -> set[str]:
    return {str(p) for p in DatasetClip._base_manager.using(using).values_list("audio", flat=True).distinct() if p}


def _model_folders(using: str) -> set[str]:
    media = Path(settings.MEDIA_ROOT).resolve()
    found = set()
    stored_paths = [*EmotionModelVersion._base_manager.using(using).values_list("path", flat=True),
                    *WordsModelVersion._base_manager.using(using).values_list("path", flat=True)]
    for stored in stored_paths:
        folder = Path(stored) if Path(stored).is_absolute() else Path(settings.BASE_DIR) / stored
        try:
            found.add(folder.resolve().relative_to(media).as_posix() + "/")
        except ValueError:
            continue  # outside MEDIA_ROOT: shipped with the code
    return found
