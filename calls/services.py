"""Every state change of a case goes through one function here.

Each one locks the case row, checks the change is allowed, makes it, appends a CaseEvent
(who, when, from, to, why) and broadcasts after the transaction commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from analysis.pipeline import analysis_dispatch, analysis_prepare
from analysis.services import case_rescore

from . import broadcast
from .audio_intake import AudioRejected, store_recording
from .exceptions import CaseActionError, NotAllowed
from .models import (
    Case,
    CaseEvent,
    CaseStatus,
    EventKind,
    Note,
    Outcome,
    Recording,
    RecordingSource,
)
from .phone import normalise_caller_number

__all__ = ["CaseActionError", "NotAllowed"]

logger = logging.getLogger(__name__)


@dataclass
class IntakeResult:
    case: Case
    recording: Recording | None
    audio_error: str | None


def _event(case: Case, kind: str, actor=None, *, from_status="", to_status="", reason="", **data):
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data,
    )


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _move(case: Case, to_status: str) -> str:
    from_status = case.status
    if not case.can_move_to(to_status):
        raise CaseActionError(
            f"A case that is {case.get_status_display().lower()} cannot become "
            f"{CaseStatus(to_status).label.lower()}."
        )
    case.status = to_status
    return from_status


def case_create(
    *,
    created_by,
    caller_number: str,
    received_at: datetime | None = None,
    language: str = "en-IN",
    location: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    audio: UploadedFile | None = None,
    audio_source: str = RecordingSource.UPLOAD,
) -> IntakeResult:
    """Create a case, then attach its audio. Bad audio never stops the case being saved."""
    case = Case(
        caller_number=normalise_caller_number(caller_number),
        received_at=received_at or timezone.now(),
        language=language,
        location=location,
        latitude=latitude,
        longitude=longitude,
        created_by=created_by,
    )
    case.full_clean()
    with transaction.atomic():
        case.save()
        _event(case, EventKind.CREATED, created_by, to_status=case.status)
        # A new call enters the queue at once, at a safe provisional priority.
        case_rescore(case_id=case.pk)
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.CREATED))
    case.refresh_from_db()
    recording, error = None, None
    if audio is not None:
        try:
            recording = recording_attach(
                case=case, upload=audio, uploaded_by=created_by, source=audio_source
            )
        except AudioRejected as exc:
            error = str(exc)
    return IntakeResult(case=case, recording=recording, audio_error=error)


def recording_attach(
    *, case: Case, upload: UploadedFile, uploaded_by, source: str = RecordingSource.UPLOAD
) -> Recording:
    """Decode, normalise and store a recording, then start its analysis.

    Raises AudioRejected (after logging it as a case event) when the audio is unusable;
    in that case nothing is left on disk and the case is otherwise unchanged.
    """
    try:
        recording = store_recording(case=case, upload=upload, uploaded_by=uploaded_by, source=source)
    except AudioRejected as exc:
        logger.warning("Case %s: audio %r rejected: %s", case.pk, upload.name, exc)
        with transaction.atomic():
            _event(case, EventKind.AUDIO_REJECTED, uploaded_by, reason=str(exc), file=upload.name)
        raise
    with transaction.atomic():
        _event(
            case,
            EventKind.AUDIO_ADDED,
            uploaded_by,
            file=recording.original_name,
            duration_s=round(recording.duration_s, 2),
            recording=recording.pk,
        )
        analysis_prepare(recording)
        case_rescore(case_id=case.pk)
        transaction.on_commit(lambda: analysis_dispatch(recording_id=recording.pk))
    case.refresh_from_db()
    return recording


def case_claim(*, case: Case, operator) -> Case:
    """Exactly one operator wins: the row lock serialises concurrent claims."""
    with transaction.atomic():
        case = _locked(case)
        if case.status == CaseStatus.CLAIMED:
            raise CaseActionError(f"Case #{case.pk} is already claimed by {case.claimed_by}.")
        from_status = _move(case, CaseStatus.CLAIMED)
        case.claimed_by = operator
        case.claimed_at = timezone.now()
        case.save(update_fields=["status", "claimed_by", "claimed_at"])
        _event(case, EventKind.CLAIMED, operator, from_status=from_status, to_status=case.status)
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.CLAIMED))
    return case


def _require_handler(case: Case, user) -> None:
    if case.claimed_by_id != user.pk and not user.has_role("supervisor"):
        raise NotAllowed(f"Case #{case.pk} is claimed by {case.claimed_by}, not by you.")


def case_release(*, case: Case, user, reason: str = "") -> Case:
    with transaction.atomic():
        case = _locked(case)
        if case.status == CaseStatus.CLAIMED:
            _require_handler(case, user)
        from_status = _move(case, CaseStatus.OPEN)
        case.claimed_by = None
        case.claimed_at = None
        case.save(update_fields=["status", "claimed_by", "claimed_at"])
        _event(
            case, EventKind.RELEASED, user, from_status=from_status, to_status=case.status, reason=reason
        )
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.RELEASED))
    return case


def case_reassign(*, case: Case, supervisor, operator, reason: str) -> Case:
    if not supervisor.has_role("supervisor"):
        raise NotAllowed("Only a supervisor can reassign a case.")
    if not reason.strip():
        raise CaseActionError("Give a reason for the reassignment.")
    if not operator.is_active:
        raise CaseActionError(f"{operator} is not an active user.")
    with transaction.atomic():
        case = _locked(case)
        if case.status == CaseStatus.CLOSED:
            raise CaseActionError("A closed case cannot be reassigned.")
        previous = case.claimed_by
        from_status = case.status
        case.status = CaseStatus.CLAIMED
        case.claimed_by = operator
        case.claimed_at = timezone.now()
        case.save(update_fields=["status", "claimed_by", "claimed_at"])
        _event(
            case,
            EventKind.REASSIGNED,
            supervisor,
            from_status=from_status,
            to_status=case.status,
            reason=reason,
            previous=str(previous or ""),
            assignee=str(operator),
        )
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.REASSIGNED))
    return case


def case_close(*, case: Case, user, outcome: str, reason: str) -> Case:
    if outcome not in Outcome.values:
        raise CaseActionError(f"'{outcome}' is not a known outcome.")
    if not reason.strip():
        raise CaseActionError("Give a reason for closing the case.")
    with transaction.atomic():
        case = _locked(case)
        if case.status == CaseStatus.CLAIMED:
            _require_handler(case, user)
        from_status = _move(case, CaseStatus.CLOSED)
        case.outcome = outcome
        case.close_reason = reason.strip()
        case.closed_by = user
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "outcome", "close_reason", "closed_by", "closed_at"])
        _event(
            case,
            EventKind.CLOSED,
            user,
            from_status=from_status,
            to_status=case.status,
            reason=case.close_reason,
            outcome=outcome,
        )
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.CLOSED))
    return case


def note_add(*, case: Case, author, text: str) -> Note:
    text = (text or "").strip()
    if not text:
        raise CaseActionError("A note cannot be empty.")
    note = Note(case=case, author=author, text=text)
    try:
        note.full_clean()
    except ValidationError as exc:
        raise CaseActionError("; ".join(exc.messages)) from exc
    with transaction.atomic():
        note.save()
        _event(case, EventKind.NOTE_ADDED, author, note=note.pk)
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.NOTE_ADDED))
    return note
