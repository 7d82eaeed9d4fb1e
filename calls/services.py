"""Every state change of a case goes through one function here.

Each one locks the case row, checks the change is allowed, makes it, appends a CaseEvent
(who, when, from, to, why) and broadcasts after the transaction commits. Apps above calls
learn of new cases, recordings and closed cases through :mod:`calls.signals`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from . import broadcast, signals
from .audio_intake import AudioRejected, recording_files_delete, recording_prepare
from .exceptions import ActionRefused, CaseActionError, NotAllowed
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

__all__ = ["ActionRefused", "CaseActionError", "NotAllowed"]

logger = logging.getLogger(__name__)


@dataclass
class IntakeResult:
    case: Case
    recording: Recording | None
    audio_error: str | None


def case_event_record(
    *, case: Case, kind: str, actor: Any = None, from_status: str = "", to_status: str = "", reason: str = "",
    **data: Any,
) -> CaseEvent:
    """Append one event to a case's history; call it inside the transaction of the change."""
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data,
    )


def case_lock(case: Case) -> Case:
    """The case's row, locked until the end of the transaction (call inside transaction.atomic)."""
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
        case_event_record(case=case, kind=EventKind.CREATED, actor=created_by, to_status=case.status)
        signals.case_created.send(sender=Case, case=case)
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
    *, case: Case, upload: UploadedFile, uploaded_by: Any, source: str = RecordingSource.UPLOAD
) -> Recording:
    """Decode, normalise and store a recording; the apps above (analysis) start from the signal.

    Raises AudioRejected (after logging it as a case event) when the audio is unusable, and
    CaseActionError for a closed case; in both cases nothing stays on disk and the case is
    otherwise unchanged.
    """
    _refuse_if_closed(case)  # before decoding: a closed case wastes no work
    try:
        recording = recording_prepare(case=case, upload=upload, uploaded_by=uploaded_by, source=source)
    except AudioRejected as exc:
        logger.warning("Case %s: audio %r rejected: %s", case.pk, upload.name, exc)
        with transaction.atomic():
            case_event_record(case=case, kind=EventKind.AUDIO_REJECTED, actor=uploaded_by, reason=str(exc),
                              file=upload.name, silent=exc.silent)
            signals.audio_rejected.send(sender=Case, case=case, silent=exc.silent)
        raise
    try:
        with transaction.atomic():
            locked = case_lock(case)
            _refuse_if_closed(locked)  # closed while the audio was being decoded
            recording.case = locked
            recording.save()
            case_event_record(
                case=locked,
                kind=EventKind.AUDIO_ADDED,
                actor=uploaded_by,
                file=recording.original_name,
                duration_s=round(recording.duration_s, 2),
                recording=recording.pk,
            )
            signals.recording_attached.send(sender=Recording, case=locked, recording=recording)
            transaction.on_commit(lambda: broadcast.case_changed(locked.pk, EventKind.AUDIO_ADDED))
    except Exception:
        recording_files_delete(recording)
        raise
    case.refresh_from_db()
    return recording


def _refuse_if_closed(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise CaseActionError(f"Case #{case.pk} is closed: no more audio can be attached to it.")


def case_claim(*, case: Case, operator) -> Case:
    """Exactly one operator wins: the row lock serialises concurrent claims."""
    with transaction.atomic():
        case = case_lock(case)
        if case.status == CaseStatus.CLAIMED:
            raise CaseActionError(f"Case #{case.pk} is already claimed by {case.claimed_by}.")
        from_status = _move(case, CaseStatus.CLAIMED)
        case.claimed_by = operator
        case.claimed_at = timezone.now()
        case.save(update_fields=["status", "claimed_by", "claimed_at"])
        case_event_record(case=case, kind=EventKind.CLAIMED, actor=operator, from_status=from_status,
                          to_status=case.status)
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.CLAIMED))
    return case


def _require_handler(case: Case, user) -> None:
    if case.claimed_by_id != user.pk and not user.has_role("supervisor"):
        raise NotAllowed(f"Case #{case.pk} is claimed by {case.claimed_by}, not by you.")


def case_release(*, case: Case, user, reason: str = "") -> Case:
    with transaction.atomic():
        case = case_lock(case)
        if case.status == CaseStatus.CLAIMED:
            _require_handler(case, user)
        from_status = _move(case, CaseStatus.OPEN)
        case.claimed_by = None
        case.claimed_at = None
        case.save(update_fields=["status", "claimed_by", "claimed_at"])
        case_event_record(case=case, kind=EventKind.RELEASED, actor=user, from_status=from_status,
                          to_status=case.status, reason=reason)
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.RELEASED))
    return case


def case_reassign(*, case: Case, supervisor, operator, reason: str) -> Case:
    if not supervisor.has_role("supervisor"):
        raise NotAllowed("Only a supervisor can reassign a case.")
    if not reason.strip():
        raise CaseActionError("Give a reason for the reassignment.")
    if not operator.is_active:
        raise CaseActionError(f"{operator} is not an active user.")
    if not operator.has_role("operator"):  # an intake client (a machine) can never act on a case
        raise CaseActionError(f"{operator} does not take calls: reassign to an operator or a supervisor.")
    with transaction.atomic():
        case = case_lock(case)
        if case.status == CaseStatus.CLOSED:
            raise CaseActionError("A closed case cannot be reassigned.")
        previous = case.claimed_by
        from_status = case.status
        case.status = CaseStatus.CLAIMED
        case.claimed_by = operator
        case.claimed_at = timezone.now()
        case.save(update_fields=["status", "claimed_by", "claimed_at"])
        case_event_record(
            case=case,
            kind=EventKind.REASSIGNED,
            actor=supervisor,
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
        case = case_lock(case)
        if case.status == CaseStatus.CLAIMED:
            _require_handler(case, user)
        from_status = _move(case, CaseStatus.CLOSED)
        case.outcome = outcome
        case.close_reason = reason.strip()
        case.closed_by = user
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "outcome", "close_reason", "closed_by", "closed_at"])
        case_event_record(
            case=case,
            kind=EventKind.CLOSED,
            actor=user,
            from_status=from_status,
            to_status=case.status,
            reason=case.close_reason,
            outcome=outcome,
        )
        signals.case_closed.send(sender=Case, case=case, actor=user)
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
        case_event_record(case=case, kind=EventKind.NOTE_ADDED, actor=author, note=note.pk)
        transaction.on_commit(lambda: broadcast.case_changed(case.pk, EventKind.NOTE_ADDED))
    return note


def recording_picture_ensure(*, recording: Recording) -> Recording:
    """The recording's waveform-and-spectrogram picture, drawn the first time someone looks at it (not
    on the way to the first score). Best effort: a call without its picture is still a call."""
    if recording.picture:
        return recording
    from django.core.files.base import ContentFile

    from core.plots import call_picture

    from .stored_audio import stored_samples

    png = call_picture(stored_samples(recording.normalised))  # through the storage: see stored_audio
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if not locked.picture:  # another request may have drawn it meanwhile
            locked.picture.save("picture.png", ContentFile(png), save=False)
            locked.save(update_fields=["picture"])
    return locked
