"""What the model commands print: a line for people, JSON for scripts."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from analysis import selectors
from analysis.models import EmotionModelVersion


def version_dict(version: EmotionModelVersion) -> dict[str, Any]:
    active = selectors.emotion_model_version_active()
    return {"id": version.pk, "name": version.name, "kind": version.kind, "path": version.path,
            "artefact_sha256": version.artefact_sha256, "labels": version.labels, "active": version == active,
            "figures": asdict(selectors.emotion_model_figures(version)),
            "blockers": selectors.emotion_model_promotion_blockers(version, selectors.triage_config_active())}


def dumps(data: Any) -> str:
    return json.dumps(data, indent=1, default=str)


def admin_user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user


def version_named(name: str) -> EmotionModelVersion:
    version = EmotionModelVersion.objects.filter(name=name).first()
    if version is None:
        known = ", ".join(EmotionModelVersion.objects.values_list("name", flat=True)) or "none"
        raise CommandError(f"No registered version {name!r} (registered: {known}).")
    return version
