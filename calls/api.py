"""REST API v1, the calls side: push calls in (integration clients with an intake key, or operators),
read the queue, claim, release, close, add notes. The same services as the pages.

What every API view shares lives here: authentication (session for the pages' users, DRF tokens,
intake API keys), one error format (calls.problems), ETags on reads, ``Idempotency-Key`` on
creating POSTs (calls.idempotency), and per-client throttles (settings.REST_FRAMEWORK).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, cast

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import QuerySet
from django.http import HttpResponseNotModified
from django.shortcuts import get_object_or_404
from django.utils.http import quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.parsers import BaseParser, FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import ApiAuthentication, user_has_role

from . import selectors, services
from .audio_intake import AudioRejected, max_upload_bytes
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import idempotent
from .models import Case, RecordingSource
from .problems import PROBLEM_JSON, api_response
from .serializers import (
    CaseCreatedOut,
    CaseIn,
    CaseOut,
    CloseIn,
    NoteIn,
    NoteOut,
    QueueQuery,
    RecordingIn,
    RecordingOut,
)

SUFFIXES = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/ogg": ".ogg",
            "audio/webm": ".webm", "audio/flac": ".flac", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a"}

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Any unique string (a UUID): a retry with the same key and request returns the first answer "
                "and creates nothing; the same key with another request is refused (422). Kept for a day.")


class ProblemOut(serializers.Serializer):
    """RFC 9457 problem details: every error of the API has this shape."""

    type = serializers.CharField(help_text="about:blank, or urn:112-portal:problem:<kind>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]  # the field, not Serializer.errors
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Invalid fields: name -> messages")


ERRORS: dict[Any, Any] = {
    (code, PROBLEM_JSON): OpenApiResponse(ProblemOut, description=description)
    for code, description in (
        (400, "Invalid fields or body (errors names them)"), (401, "No, or an unknown, revoked or expired, key"),
        (403, "The role may not do this"), (404, "No such case, or not one this client may see"),
        (405, "Method not allowed"), (409, "Against the case's state"), (413, "Body too large"),
        (415, "Unsupported content type"), (422, "Idempotency-Key reused with another request"),
        (429, "Throttled: see Retry-After"))
}


def query_int(request: Request, name: str, default: int | None, maximum: int) -> int | None:
    """A whole-number query parameter: absent gives the default; anything but 0..maximum is refused
    (DRF's paginators quietly ignored "limit=null" and passed a 20-digit limit to the database)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise ValidationError({name: [f"A whole number from 0 to {maximum}."]})
    return int(raw)


class BoundedLimitOffset(LimitOffsetPagination):
    default_limit = 100
    max_limit = 200

    def get_limit(self, request: Request) -> int | None:
        return query_int(request, self.limit_query_param, self.default_limit, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return query_int(request, self.offset_query_param, 0, 10**9) or 0


class RawAudioParser(BaseParser):
    """A bare audio body (``Content-Type: audio/...``), read up to the upload limit."""

    media_type = "audio/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> dict[str, Any]:
        limit = max_upload_bytes()
        content = stream.read(limit + 1) if stream is not None else b""
        if len(content) > limit:
            from django.core.exceptions import RequestDataTooBig

            raise RequestDataTooBig(f"The audio is over the {settings.MAX_UPLOAD_MB} MB limit.")
        kind = (media_type or "").split(";")[0].strip().lower()
        return {"audio": SimpleUploadedFile(f"upload{SUFFIXES.get(kind, '')}", content, content_type=kind)}


class MayTakeCalls(BasePermission):
    """Creating cases and adding their audio: operators (and above), and integration clients."""

    message = "Only operators and intake clients may push calls in."

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_has_role(request.user, Role.OPERATOR) or user_has_role(request.user, Role.INTAKE)


class MayReadCases(MayTakeCalls):
    """Reading cases: operators (and above) the cases they may see; an intake client only the calls it
    pushed in itself (Case.objects.visible_to narrows the rows), so a phone system can follow its call."""

    message = "Only operators, and intake clients for the calls they pushed in, may read cases."


class ApiView(ApiAuthentication, APIView):
    """A v1 endpoint: reads carry an ETag (a matching If-None-Match gets 304 without a body)."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200 and isinstance(response, Response):
            response.render()
            etag = quote_etag(hashlib.sha256(response.content).hexdigest()[:32])
            response["ETag"] = etag
            response["Cache-Control"] = "private, no-cache"
            if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
                not_modified = HttpResponseNotModified()
                not_modified["ETag"] = etag
                return not_modified
        return response


class QueuePagination(CursorPagination):
    """Highest priority first; the cursor keeps a page's place while new calls arrive."""

    ordering = ("-queue_key", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int | None:
        return query_int(request, self.page_size_query_param, self.page_size, self.max_page_size) or self.page_size

    def decode_cursor(self, request: Request) -> Any:
        """A cursor this API did not give out is bad input (400), never a database error (500)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ParseError("The cursor is not one this API gave out: start again without it.") from exc
        if cursor is not None and cursor.position is not None:
            try:
                position = float(cursor.position)
            except ValueError:
                position = math.nan
            if not math.isfinite(position):
                raise ParseError("The cursor is not one this API gave out: start again without it.")
        return cursor


class CaseListCreate(ApiView, ListAPIView):
    """GET: the queue, highest priority first, filterable (an intake client: the calls it pushed in);
    POST: push a call in (multipart with `audio`, or a bare audio body with the call's details in the
    query string)."""

    serializer_class = CaseOut
    pagination_class = QueuePagination
    parser_classes = [MultiPartParser, FormParser, JSONParser, RawAudioParser]

    def get_permissions(self) -> list[BasePermission]:
        return [MayTakeCalls()] if self.request.method == "POST" else [MayReadCases()]

    def get_queryset(self) -> QuerySet[Case]:
        query = QueueQuery(data=self.request.query_params.dict())  # not as a form: "language=" is refused
        query.is_valid(raise_exception=True)
        return selectors.api_queue(user=self.request.user, **query.validated_data)

    @extend_schema(parameters=[QueueQuery], responses={200: CaseOut(many=True), **ERRORS})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": CaseIn, "application/json": CaseIn, "audio/*": OpenApiTypes.BINARY},
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: CaseCreatedOut, **ERRORS},
        description="With a bare audio body, give caller_number (and optionally received_at, language, location, "
                    "latitude, longitude) as query parameters.")
    @idempotent
    def post(self, request: Request) -> Response:
        data = CaseIn(data=_with_query_fields(request))
        data.is_valid(raise_exception=True)
        result = services.case_create(created_by=request.user, audio_source=RecordingSource.API, **data.validated_data)
        body = CaseCreatedOut(result.case, context={"audio_error": result.audio_error}).data
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/cases/{result.case.pk}/"
        return response


class CaseAction(ApiView):
    def case(self, pk: int) -> Case:
        return get_object_or_404(selectors.cases_visible_to(self.request.user), pk=pk)

    def done(self, case: Case) -> Response:
        case.refresh_from_db()
        return Response(CaseOut(case).data)


class CaseClaim(CaseAction):
    @extend_schema(request=None, responses={200: CaseOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        return self.done(services.case_claim(case=self.case(pk), operator=request.user))


class CaseRelease(CaseAction):
    @extend_schema(request=None, responses={200: CaseOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        return self.done(services.case_release(case=self.case(pk), user=request.user))


class CaseClose(CaseAction):
    @extend_schema(request=CloseIn, responses={200: CaseOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        data = CloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self.done(services.case_close(case=case, user=request.user, **data.validated_data))


class CaseNotes(CaseAction):
    @extend_schema(request=NoteIn, parameters=[IDEMPOTENCY_PARAMETER], responses={201: NoteOut, **ERRORS})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        data = NoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.note_add(case=case, author=request.user, text=data.validated_data["text"])
        return Response(NoteOut(note).data, status=status.HTTP_201_CREATED)


class CaseRecordings(CaseAction):
    """Append audio to a case: operators to any case they may see, an intake client to the cases it created."""

    permission_classes = [MayTakeCalls]  # the cases an intake client may see are the ones it created
    parser_classes = [MultiPartParser, FormParser, RawAudioParser]

    @extend_schema(request={"multipart/form-data": RecordingIn, "audio/*": OpenApiTypes.BINARY},
                   parameters=[IDEMPOTENCY_PARAMETER], responses={201: RecordingOut, **ERRORS})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        case = self.case(pk)
        data = RecordingIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            recording = services.recording_attach(case=case, upload=data.validated_data["audio"],
                                                  uploaded_by=request.user, source=RecordingSource.API)
        except AudioRejected as exc:
            return api_response(status.HTTP_400_BAD_REQUEST, str(exc), kind="invalid", errors={"audio": [str(exc)]})
        return Response(RecordingOut(recording).data, status=status.HTTP_201_CREATED)


def _with_query_fields(request: Request) -> Any:
    """A bare audio body carries the call's details in the query string."""
    if not request.content_type.lower().startswith("audio/"):
        return request.data
    if any(key in request.data for key in request.query_params if key != "audio"):
        raise ParseError("Send the details either in the body or in the query string.")
    return {**request.query_params.dict(), **cast(dict[str, Any], request.data)}
