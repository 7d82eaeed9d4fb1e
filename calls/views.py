"""Operator pages. Thin: they parse input, call a service or selector, and render."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from core.text.analysis import INCIDENT_TYPES

from . import selectors, services
from .audio_intake import AudioRejected
from .forms import CaseIntakeForm, CloseForm, NoteForm, ReassignForm, RecordingForm, form_errors_text
from .media_types import harden_media_response, media_type_of
from .models import Case, CaseStatus, Recording, RecordingSource
from .panels import case_panels_render


def _visible_case(request, pk: int):
    """404 for cases the user may not see, so outsiders learn nothing about them."""
    return get_object_or_404(selectors.cases_visible_to(request.user), pk=pk)


def _refused(request: HttpRequest, case: Case, exc: services.ActionRefused) -> HttpResponseRedirect:
    messages.error(request, str(exc))
    return redirect(case)


def _valid(form: forms.Form) -> dict[str, Any]:
    """The form's data, or its errors as a refusal the case page shows."""
    if not form.is_valid():
        raise services.CaseActionError(form_errors_text(form))
    return form.cleaned_data


def _apply(request: HttpRequest, case: Case, change: Callable[[], str | None]) -> HttpResponse:
    """Run one change of the case (it returns what to tell the user); a refusal becomes an error
    message on the case page."""
    try:
        done = change()
    except services.ActionRefused as exc:
        return _refused(request, case, exc)
    if done:
        messages.success(request, done)
    return redirect(case)


def _queue_context(request: HttpRequest) -> dict[str, Any]:
    filters = selectors.QueueFilters.from_query(request.GET, user=request.user)
    window = selectors.queue_window(user=request.user, filters=filters,
                                    page=selectors.parse_page(request.GET.get("page")),
                                    page_size=settings.QUEUE_PAGE_SIZE)
    return {"window": window, "cases": window.cases, "filters": filters}


@role_required(Role.OPERATOR)
def case_list(request):
    context = _queue_context(request) | {"incident_types": INCIDENT_TYPES}
    return render(request, "calls/case_list.html", context)


@role_required(Role.OPERATOR)
def queue_rows(request):
    """The queue's window alone (counts, rows, pager), same filters and page: the live page
    re-syncs from this after any change."""
    return render(request, "calls/_queue_window.html", _queue_context(request))


@role_required(Role.OPERATOR)
def case_create(request):
    form = CaseIntakeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = RecordingSource.BROWSER if request.POST.get("recorded_in_browser") else RecordingSource.UPLOAD
        result = services.case_create(
            created_by=request.user,
            caller_number=data["caller_number"],
            received_at=data["received_at"],
            language=data["language"],
            location=data["location"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            audio=data.get("audio"),
            audio_source=source,
        )
        if result.audio_error:
            messages.error(
                request,
                f"Case #{result.case.pk} was saved, but its audio was rejected: {result.audio_error} "
                "Attach another recording below.",
            )
        else:
            messages.success(request, f"Case #{result.case.pk} created.")
        return redirect(result.case)
    return render(request, "calls/case_form.html", {"form": form})


@role_required(Role.OPERATOR)
def case_detail(request, pk: int):
    case = get_object_or_404(selectors.case_detail_queryset(request.user), pk=pk)
    context = {
        "case": case,
        "events": case.events.select_related("actor"),
        "notes": case.notes.select_related("author"),
        "recording_form": RecordingForm(),
        "close_form": CloseForm(case=case),
        "note_form": NoteForm(),
        "reassign_form": ReassignForm() if request.user.has_role(Role.SUPERVISOR) else None,
        "is_handler": case.claimed_by_id == request.user.pk,
        "Status": CaseStatus,
        "panels": case_panels_render(request, case),
    }
    return render(request, "calls/case_detail.html", context)


@role_required(Role.OPERATOR)
@require_POST
def case_claim(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)

    def claim() -> str:
        services.case_claim(case=case, operator=request.user)
        return f"You claimed case #{case.pk}."

    return _apply(request, case, claim)


@role_required(Role.OPERATOR)
@require_POST
def case_release(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)

    def release() -> str:
        services.case_release(case=case, user=request.user, reason=request.POST.get("reason", ""))
        return f"Case #{case.pk} is back in the queue."

    return _apply(request, case, release)


@role_required(Role.OPERATOR)
@require_POST
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)

    def close() -> str:
        services.case_close(case=case, user=request.user, **_valid(CloseForm(request.POST)))
        return f"Case #{case.pk} closed."

    return _apply(request, case, close)


@role_required(Role.SUPERVISOR)
@require_POST
def case_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)

    def reassign() -> str:
        data = _valid(ReassignForm(request.POST))
        services.case_reassign(case=case, supervisor=request.user, operator=data["operator"], reason=data["reason"])
        return f"Case #{case.pk} reassigned to {data['operator']}."

    return _apply(request, case, reassign)


@role_required(Role.OPERATOR)
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)

    def add() -> None:
        services.note_add(case=case, author=request.user, text=_valid(NoteForm(request.POST))["text"])

    return _apply(request, case, add)


@role_required(Role.OPERATOR)
@require_POST
def recording_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = _visible_case(request, pk)
    source = RecordingSource.BROWSER if request.POST.get("recorded_in_browser") else RecordingSource.UPLOAD

    def attach() -> str:
        audio = _valid(RecordingForm(request.POST, request.FILES))["audio"]
        try:
            services.recording_attach(case=case, upload=audio, uploaded_by=request.user, source=source)
        except AudioRejected as exc:
            raise services.CaseActionError(f"The audio was rejected: {exc}") from exc
        return "Audio attached; analysis has started."

    return _apply(request, case, attach)


@role_required(Role.OPERATOR)
def recording_file(request, pk: int, which: str):
    """A recording's files, only for users who may see its case (media is never served directly).

    Every file is served with a type the server chose, never one guessed from a stored name: the
    original (the client's bytes, which may be MP3 and JavaScript or HTML at once) as its decoded
    format's type and as a download, so it can never run as a script or page of this origin; the
    normalised WAV and the picture (written by the server) inline, for the <audio> and <img> of the
    case page. All of them with nosniff and a sandboxing CSP (media_types.harden_media_response)."""
    recording = get_object_or_404(Recording.objects.select_related("case"), pk=pk)
    _visible_case(request, recording.case_id)
    if which == "picture" and recording.normalised:
        recording = services.recording_picture_ensure(recording=recording)
    field = {"original": recording.original, "normalised": recording.normalised, "picture": recording.picture}.get(which)
    if field is None or not field.name:
        raise Http404("No such file.")
    if which == "original":
        # By the decoded format, so also for originals stored under the client's extension before.
        media = media_type_of(recording.source_format)
        content_type, download = media.mime, f"recording-{recording.pk}-original{media.extension}"
    else:
        content_type, download = {"normalised": "audio/wav", "picture": "image/png"}[which], None
    response = _ranged_file_response(request, field, content_type)
    if download is not None:
        response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=download)
    return harden_media_response(response)


RANGE_HEADER = re.compile(r"^bytes=(\d*)-(\d*)$")


def _ranged_file_response(request: HttpRequest, field: FieldFile, content_type: str) -> HttpResponseBase:
    """A single byte range (206) when asked: the audio player needs it to seek to a word. The type is
    always given: FileResponse would otherwise guess it from the stored file's name."""
    size = field.size
    match = RANGE_HEADER.match(request.headers.get("Range", ""))
    if not match or not any(match.groups()):
        response: HttpResponseBase = FileResponse(field.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    first, last = match.groups()
    start = int(first) if first else max(0, size - int(last))
    end = min(int(last), size - 1) if first and last else size - 1
    if start > end or start >= size:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    with field.open("rb") as handle:
        handle.seek(start)
        body = handle.read(end - start + 1)
    response = HttpResponse(body, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response
