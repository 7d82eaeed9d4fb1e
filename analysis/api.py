"""REST API v1, the analysis side: a case with its analysis and score breakdown; the emotion model
versions (admins read them, and promote one)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsPortalAdmin
from calls.api import ERRORS, ApiView, BoundedLimitOffset, MayReadCases
from calls.selectors import case_detail_queryset
from calls.serializers import CaseDetailOut, TextField

from . import selectors, services
from .models import EmotionModelVersion, StepName, TriageScore


class ScoreOut(serializers.ModelSerializer):
    class Meta:
        model = TriageScore
        fields = ["base_score", "band", "components", "reasons", "config_version", "provisional", "overridden",
                  "created_at"]


class StepOut(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField()
    error = serializers.CharField()
    model_version = serializers.CharField()
    seconds = serializers.FloatField(allow_null=True)
    result = serializers.JSONField(help_text="The step's typed result (emotion, transcript or words).")


class AnalysisOut(serializers.Serializer):
    steps = StepOut(many=True)
    score = ScoreOut(allow_null=True, help_text="The latest score with its named components.")


class CaseWithAnalysisOut(CaseDetailOut):
    analysis = serializers.SerializerMethodField()

    class Meta(CaseDetailOut.Meta):
        fields = CaseDetailOut.Meta.fields + ["analysis"]

    @extend_schema_field(AnalysisOut)
    def get_analysis(self, case: Any) -> dict[str, Any]:
        analysis = selectors.case_analysis_get(case)
        steps = [analysis.steps[name] for name in StepName.values if name in analysis.steps]
        return AnalysisOut({"steps": steps, "score": TriageScore.objects.filter(case=case).first()}).data


class CaseDetail(ApiView):
    """A case: its details, recordings, events, notes, analysis steps and score breakdown (an intake
    client: only for the calls it pushed in)."""

    permission_classes = [MayReadCases]

    @extend_schema(responses={200: CaseWithAnalysisOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        case = get_object_or_404(case_detail_queryset(request.user), pk=pk)
        return Response(CaseWithAnalysisOut(case).data)


class VersionOut(serializers.ModelSerializer):
    figures = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()

    class Meta:
        model = EmotionModelVersion
        fields = ["id", "name", "kind", "artefact_sha256", "labels", "registered_at", "active", "figures"]

    @extend_schema_field(serializers.DictField())
    def get_figures(self, version: EmotionModelVersion) -> dict[str, Any]:
        return asdict(selectors.emotion_model_figures(version))

    def get_active(self, version: EmotionModelVersion) -> bool:
        return version.pk == self.context.get("active_id")


class PromoteIn(serializers.Serializer):
    reason = TextField(max_length=1000)


class VersionList(ApiView, ListAPIView):
    """Registered emotion model versions, newest first (admins)."""

    permission_classes = [IsPortalAdmin]
    serializer_class = VersionOut
    pagination_class = BoundedLimitOffset
    queryset = EmotionModelVersion.objects.all()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "active_id": _active_id()}

    @extend_schema(responses={200: VersionOut(many=True), **ERRORS})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class VersionDetail(ApiView):
    permission_classes = [IsPortalAdmin]

    @extend_schema(responses={200: VersionOut, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        version = get_object_or_404(EmotionModelVersion, pk=pk)
        return Response(VersionOut(version, context={"active_id": _active_id()}).data)


class VersionPromote(ApiView):
    """Make a version the active one (recorded with who and why); refused with the reason when the
    triage cannot use it."""

    permission_classes = [IsPortalAdmin]

    @extend_schema(request=PromoteIn, responses={200: VersionOut, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        version = get_object_or_404(EmotionModelVersion, pk=pk)
        data = PromoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.emotion_model_promote(version=version, admin=request.user, reason=data.validated_data["reason"])
        return Response(VersionOut(version, context={"active_id": _active_id()}).data)


def _active_id() -> int | None:
    active = selectors.emotion_model_version_active()
    return active.pk if active is not None else None
