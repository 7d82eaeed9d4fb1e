"""REST API: the same services as the pages, for telephony systems and the live queue."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ApiAuthentication

from . import selectors, services
from .audio_intake import AudioRejected
from .models import RecordingSource
from .serializers import CaseDetailOut, CaseIn, CaseOut, CloseIn, NoteIn, NoteOut, RecordingIn, RecordingOut


def _refusal(exc: services.CaseActionError) -> Response:
    code = status.HTTP_403_FORBIDDEN if isinstance(exc, services.NotAllowed) else status.HTTP_409_CONFLICT
    return Response({"detail": str(exc)}, status=code)


class CaseListCreate(ApiAuthentication, ListAPIView):
    """The queue, highest priority first; POST creates a case (multipart with `audio`)."""

    serializer_class = CaseOut

    def get_queryset(self):
        filters = selectors.QueueFilters.from_query(self.request.query_params, user=self.request.user)
        return selectors.queue_list(user=self.request.user, filters=filters)

    @extend_schema(request=CaseIn, responses={201: CaseDetailOut})
    def post(self, request):
        data = CaseIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.case_create(created_by=request.user, audio_source=RecordingSource.API, **data.validated_data)
        body = CaseDetailOut(result.case).data
        body["audio_error"] = result.audio_error
        return Response(body, status=status.HTTP_201_CREATED)


class CaseDetail(ApiAuthentication, RetrieveAPIView):
    serializer_class = CaseDetailOut

    def get_queryset(self):
        return selectors.case_detail_queryset(self.request.user)


class _CaseAction(ApiAuthentication, APIView):
    def case(self, pk):
        return get_object_or_404(selectors.cases_visible_to(self.request.user), pk=pk)

    def done(self, case):
        case.refresh_from_db()
        return Response(CaseOut(case).data)


class CaseClaim(_CaseAction):
    @extend_schema(request=None, responses=CaseOut)
    def post(self, request, pk):
        try:
            return self.done(services.case_claim(case=self.case(pk), operator=request.user))
        except services.CaseActionError as exc:
            return _refusal(exc)


class CaseRelease(_CaseAction):
    @extend_schema(request=None, responses=CaseOut)
    def post(self, request, pk):
        try:
            return self.done(services.case_release(case=self.case(pk), user=request.user))
        except services.CaseActionError as exc:
            return _refusal(exc)


class CaseClose(_CaseAction):
    @extend_schema(request=CloseIn, responses=CaseOut)
    def post(self, request, pk):
        case = self.case(pk)
        data = CloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            return self.done(services.case_close(case=case, user=request.user, **data.validated_data))
        except services.CaseActionError as exc:
            return _refusal(exc)


class CaseNotes(_CaseAction):
    @extend_schema(request=NoteIn, responses={201: NoteOut})
    def post(self, request, pk):
        case = self.case(pk)
        data = NoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            note = services.note_add(case=case, author=request.user, text=data.validated_data["text"])
        except services.CaseActionError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(NoteOut(note).data, status=status.HTTP_201_CREATED)


class CaseRecordings(_CaseAction):
    @extend_schema(request=RecordingIn, responses={201: RecordingOut})
    def post(self, request, pk):
        case = self.case(pk)
        data = RecordingIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            recording = services.recording_attach(
                case=case, upload=data.validated_data["audio"], uploaded_by=request.user, source=RecordingSource.API
            )
        except AudioRejected as exc:
            return Response({"audio": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        except services.CaseActionError as exc:
            return _refusal(exc)
        return Response(RecordingOut(recording).data, status=status.HTTP_201_CREATED)
