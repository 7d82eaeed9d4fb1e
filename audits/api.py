"""REST API v1, the audit side (supervisors): the calls waiting for my review, my answers, and
answering (or correcting my own latest answer). Other supervisors' answers are not listed here: a
blind second review must stay blind."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.permissions import IsSupervisor
from calls.api import ERRORS, IDEMPOTENCY_PARAMETER, ApiView, BoundedLimitOffset
from calls.idempotency import idempotent
from calls.serializers import NullableIdField, TextField

from . import selectors, services
from .models import INCIDENT_CHOICES, Audit, AuditCategory, AuditItem


class AuditItemOut(serializers.ModelSerializer):
    class Meta:
        model = AuditItem
        fields = ["id", "case", "reasons", "uncertainty", "second_review", "model_version", "system_category",
                  "system_suspected_prank", "system_incident_type", "system_band", "transcript", "created_at"]


class AuditOut(serializers.ModelSerializer):
    case = serializers.IntegerField(source="item.case_id", read_only=True)

    class Meta:
        model = Audit
        fields = ["id", "item", "case", "category", "genuine", "incident_type", "corrected_transcript", "comment",
                  "blind", "supersedes", "created_at"]


class AuditIn(serializers.Serializer):
    item = serializers.IntegerField(min_value=1)
    category = serializers.ChoiceField(choices=AuditCategory.choices)
    genuine = serializers.BooleanField()
    incident_type = serializers.ChoiceField(choices=INCIDENT_CHOICES)
    corrected_transcript = TextField(max_length=20000, required=False, allow_blank=True, default="")
    comment = TextField(max_length=5000, required=False, allow_blank=True, default="")
    supersedes = NullableIdField(required=False, help_text="To correct your own latest answer: its id.")


class AuditItemList(ApiView, ListAPIView):
    """Calls waiting for my review, least certain first."""

    permission_classes = [IsSupervisor]
    serializer_class = AuditItemOut
    pagination_class = BoundedLimitOffset

    def get_queryset(self) -> QuerySet[AuditItem]:
        return selectors.audit_items_open_for(self.request.user)

    @extend_schema(responses={200: AuditItemOut(many=True), **ERRORS})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class AuditListCreate(ApiView, ListAPIView):
    """GET: my answers, newest first; POST: answer a call waiting for review."""

    permission_classes = [IsSupervisor]
    serializer_class = AuditOut
    pagination_class = BoundedLimitOffset

    def get_queryset(self) -> QuerySet[Audit]:
        return Audit.objects.filter(supervisor=cast(User, self.request.user)).select_related("item").order_by("-created_at", "-pk")

    @extend_schema(responses={200: AuditOut(many=True), **ERRORS})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=AuditIn, parameters=[IDEMPOTENCY_PARAMETER], responses={201: AuditOut, **ERRORS})
    @idempotent
    def post(self, request: Request) -> Response:
        data = AuditIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        item = get_object_or_404(AuditItem, pk=values.pop("item"))
        supersedes_id = values.pop("supersedes", None)
        supersedes = get_object_or_404(Audit, pk=supersedes_id, item=item) if supersedes_id else None
        audit = services.audit_record(item=item, supervisor=request.user, supersedes=supersedes, **values)
        return Response(AuditOut(audit).data, status=status.HTTP_201_CREATED)
