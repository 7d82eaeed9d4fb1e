"""The words model registry: versions of core.text.words_model registered from their folders, one
active at a time, promoted and rolled back by admins with a reason, as the emotion models are.

The text step asks ``words_model_active_folder()`` per call, so a promotion takes effect on every
worker's next call without a restart (analysis.pipeline.words_model caches one load per folder).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from calls.exceptions import NotAllowed
from core.emotion import SHIPPED_MODELS_DIR
from core.quality import AucInterval
from core.triage.words_trust import words_trust_explained

from . import signals
from .exceptions import ModelVersionRefused
from .models import (
    ActivationAction,
    AnalysisStep,
    AuditedReliability,
    StepName,
    StepState,
    WordsModelActivation,
    WordsModelChallenger,
    WordsModelVersion,
)

logger = logging.getLogger(__name__)

WORDS_KIND = "words"  # metadata.json "kind" of a words model folder


# -- reads --------------------------------------------------------------------------------------


def words_model_folder(version: WordsModelVersion) -> Path:
    path = Path(version.path)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def words_model_activation_current() -> WordsModelActivation | None:
    return WordsModelActivation.objects.select_related("version", "activated_by").first()


def words_model_active_folder() -> str:
    """The folder the text step reads its words model from: the version an admin made active last,
    else WORDS_MODEL_DIR ("" when the words model is turned off and nothing was promoted)."""
    activation = words_model_activation_current()
    if activation is not None:
        return str(words_model_folder(activation.version))
    return str(settings.WORDS_MODEL_DIR or "")


def words_model_version_active() -> WordsModelVersion | None:
    """The registered version in use (None when WORDS_MODEL_DIR names an unregistered folder or is off)."""
    activation = words_model_activation_current()
    if activation is not None:
        return activation.version
    return _registered_default()


def _registered_default() -> WordsModelVersion | None:
    if not settings.WORDS_MODEL_DIR:
        return None
    try:
        name = _read_metadata(Path(settings.WORDS_MODEL_DIR))["version"]
    except ModelVersionRefused:
        return None
    return WordsModelVersion.objects.filter(name=name).first()


def words_model_previous(current: WordsModelVersion | None) -> WordsModelVersion | None:
    """The version in use before the current one: the last activation of another version, else the
    configured default when it is registered and not the current one."""
    for activation in WordsModelActivation.objects.select_related("version"):
        if activation.version != current:
            return activation.version
    default = _registered_default()
    return default if default != current else None


@dataclass(frozen=True)
class WordsFigures:
    """A words version's figures on the call benchmark's held-out part (None: not measured)."""

    auc_vs_non_genuine: float | None
    auc_vs_routine: float | None
    incident_accuracy: float | None
    trust_auc: float | None
    training_examples: int | None
    audited_calls: int | None

    @classmethod
    def of(cls, version: WordsModelVersion) -> WordsFigures:
        meta = version.metadata
        figures = meta.get("figures", {})
        return cls(
            auc_vs_non_genuine=figures.get("emergency_auc_heldout_vs_non_genuine"),
            auc_vs_routine=figures.get("emergency_auc_heldout_vs_routine"),
            incident_accuracy=figures.get("incident_accuracy_heldout"),
            trust_auc=meta.get("reliability", {}).get("emergency_auc_heldout"),
            training_examples=meta.get("training_examples"),
            audited_calls=meta.get("lineage", {}).get("audited_calls"),
        )


def words_model_trust(name: str, *, stored: float = 0.0) -> tuple[float, str]:
    """How far the triage follows the words version ``name`` and why: its audited agreement with the
    supervisors once it covers enough calls, else its held-out AUC (a version not registered keeps
    the trust stored with its reading)."""
    version = WordsModelVersion.objects.filter(name=name).first()
    audited = AuditedReliability.objects.filter(model_version=name).first()
    if version is None and audited is None:
        return stored, "as read (the version is not registered)"
    heldout = (version.metadata.get("reliability") or {}).get("emergency_auc_heldout") if version else None
    return words_trust_explained(heldout, audited.as_reliability() if audited else None)


def words_model_challenger_current() -> WordsModelVersion | None:
    row = WordsModelChallenger.objects.select_related("version").first()
    return row.version if row is not None else None


def words_model_challenger_folder() -> str:
    """The folder of the words version reading calls in the shadow ("" when none does)."""
    challenger = words_model_challenger_current()
    return str(words_model_folder(challenger)) if challenger is not None else ""


@dataclass(frozen=True)
class WordsShadowComparison:
    """How the version in use and its challenger read the same calls (the latest ``limit`` read by both)."""

    calls: int
    same_side: float | None  # share of calls both put on the same side of even odds
    mean_difference: float | None  # mean |P(emergency) in use − challenger's|


def words_shadow_comparison(active: WordsModelVersion, challenger: WordsModelVersion,
                            limit: int = 1000) -> WordsShadowComparison:
    pairs = []
    for result in (AnalysisStep.objects.filter(name=StepName.TEXT, state=StepState.DONE)
                   .order_by("-pk").values_list("result", flat=True)[:limit * 5]):
        used, shadow = (result or {}).get("model") or {}, (result or {}).get("shadow_model") or {}
        if used.get("version") == active.name and shadow.get("version") == challenger.name:
            pairs.append((float(used["p_emergency"]), float(shadow["p_emergency"])))
        if len(pairs) >= limit:
            break
    if not pairs:
        return WordsShadowComparison(0, None, None)
    same = sum((a >= 0.5) == (b >= 0.5) for a, b in pairs) / len(pairs)
    return WordsShadowComparison(len(pairs), round(same, 3), round(sum(abs(a - b) for a, b in pairs) / len(pairs), 3))


# -- changes ------------------------------------------------------------------------------------


def _read_metadata(folder: Path) -> dict[str, Any]:
    """A words model folder's metadata, its artefact checked against the recorded sha256."""
    try:
        meta = json.loads((folder / "metadata.json").read_text())
        artefact = (folder / meta.get("artefact", "words_model.json")).read_text()
    except (OSError, ValueError) as exc:
        raise ModelVersionRefused(f"{folder} is not a words model folder: {exc}") from exc
    if meta.get("kind") != WORDS_KIND or not meta.get("version"):
        raise ModelVersionRefused(f"{folder} is not a words model folder (metadata kind 'words' and a version)")
    if hashlib.sha256(artefact.encode()).hexdigest() != meta.get("artefact_sha256"):
        raise ModelVersionRefused(f"{folder}: the artefact does not match the checksum its metadata recorded")
    return meta


def words_model_register(*, folder: Path, user: Any = None) -> WordsModelVersion:
    """Register a words model folder (checked as a load is). The same name and artefact again returns
    the registered row; the same name with another artefact is refused (versions are immutable)."""
    meta = _read_metadata(folder)
    existing = WordsModelVersion.objects.filter(name=meta["version"]).first()
    if existing is not None:
        if existing.artefact_sha256 != meta["artefact_sha256"]:
            raise ModelVersionRefused(f"A different words model is registered as {meta['version']} already; "
                                      "versions are immutable, so give the new one another name.")
        return existing
    try:
        stored_path = str(folder.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        stored_path = str(folder.resolve())
    return WordsModelVersion.objects.create(name=meta["version"], path=stored_path,
                                            artefact_sha256=meta["artefact_sha256"], metadata=meta,
                                            registered_by=user)


def words_models_register_shipped() -> list[WordsModelVersion]:
    """Every words version shipped in ml_models/ (after migrate and flush; idempotent)."""
    registered = []
    for meta_file in sorted(SHIPPED_MODELS_DIR.glob("*/metadata.json")):
        if json.loads(meta_file.read_text()).get("kind") != WORDS_KIND:
            continue
        try:
            registered.append(words_model_register(folder=meta_file.parent))
        except ModelVersionRefused:
            logger.exception("Shipped words model %s could not be registered", meta_file.parent.name)
    return registered


def words_model_promote(*, version: WordsModelVersion, admin: Any, reason: str) -> WordsModelActivation:
    """Make a version the one the text step uses from the next call on."""
    return _activate(version=version, admin=admin, reason=reason, action=ActivationAction.PROMOTE)


def words_model_rollback(*, admin: Any, reason: str) -> WordsModelActivation:
    """Make the version in use before the current one active again."""
    previous = words_model_previous(words_model_version_active())
    if previous is None:
        raise ModelVersionRefused("There is no earlier words model to roll back to.")
    return _activate(version=previous, admin=admin, reason=reason, action=ActivationAction.ROLLBACK)


def _activate(*, version: WordsModelVersion, admin: Any, reason: str, action: str) -> WordsModelActivation:
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can change the words model in use.")
    if not reason.strip():
        raise ModelVersionRefused("Say why (it is kept with the change).")
    _read_metadata(words_model_folder(version))  # a version whose folder is gone or altered is refused
    with transaction.atomic():
        WordsModelVersion.objects.select_for_update().get(pk=version.pk)  # one change at a time
        if words_model_version_active() == version:
            raise ModelVersionRefused(f"{version.name} is the words model in use already.")
        activation = WordsModelActivation.objects.create(version=version, action=action, reason=reason.strip(),
                                                         activated_by=admin)
    logger.info("Words model %s: %s by %s (%s)", action, version.name, admin, reason.strip())
    return activation


def words_audited_reliability_record(*, model_version: str, interval: AucInterval) -> AuditedReliability:
    """Record how well a words version agreed with the supervisors (P(emergency) against their
    "genuine" answers; the row's "distressed" side counts genuine calls, "calm" the others). When that
    changes the trust the triage gives it, the open cases are re-scored after the commit."""
    trust_before = words_model_trust(model_version)[0]
    with transaction.atomic():
        row = AuditedReliability.objects.create(
            model_version=model_version, auc=interval.auc, auc_low=interval.low, auc_high=interval.high,
            distressed=interval.positives, calm=interval.negatives)
        if abs(words_model_trust(model_version)[0] - trust_before) >= 0.005:
            logger.info("Trust in words model %s now from %d audited calls: re-scoring the open cases", model_version,
                        interval.positives + interval.negatives)
            signals.model_trust_changed.send(sender=AuditedReliability, model_version=model_version)
    return row


def words_model_challenger_set(*, version: WordsModelVersion | None, admin: Any, reason: str) -> WordsModelChallenger:
    """Let another words version read every new call beside the one in use (None stops it): its
    readings are kept with the call's words and never move a priority."""
    if not admin.has_role("admin"):
        raise NotAllowed("Only an admin can choose a challenger.")
    if not reason.strip():
        raise ModelVersionRefused("Say why (it is kept with the change).")
    if version is not None:
        if version == words_model_version_active():
            raise ModelVersionRefused(f"{version.name} is the words model in use: a challenger must be another one.")
        _read_metadata(words_model_folder(version))
    elif words_model_challenger_current() is None:
        raise ModelVersionRefused("No words version is reading in the shadow.")
    return WordsModelChallenger.objects.create(version=version, reason=reason.strip(), set_by=admin)
