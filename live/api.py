"""REST API v1, live calls: an intake client announces a call before its audio arrives over
AudioSocket, and gets the UUID to hand to Asterisk (``AudioSocket(<uuid>,host:port)``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import _RolePermission
from calls.api import ERRORS, ApiView
from calls.models import Language
from calls.problems import api_response

from . import services
from .protocol import ProtocolError


class IsIntakeClient(_RolePermission):
    role = "intake"
    message = "Only intake clients (phone systems, with their API key) announce live calls."

    def has_permission(self, request: Any, view: Any) -> bool:
        # A method this endpoint does not serve is a 405 for anyone signed in, as on every other endpoint.
        if request.user and request.user.is_authenticated and not hasattr(view, request.method.lower()):
            return True
        return super().has_permission(request, view)


class CallAnnounceIn(serializers.Serializer):
    caller_number = serializers.CharField(required=False, allow_blank=True, max_length=64, default="",
                                          help_text="Blank or absent: an unknown number.")
    language = serializers.ChoiceField(choices=Language.choices, default=Language.EN_IN)
    location = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class CallAnnouncedOut(serializers.Serializer):
    uuid = serializers.CharField(help_text="Give it to Asterisk: AudioSocket(<uuid>,<host>:<port>).")
    case = serializers.IntegerField(help_text="The case, in the queue from now on.")
    state = serializers.CharField()


class LiveCallAnnounce(ApiView):
    permission_classes = [IsIntakeClient]

    @extend_schema(request=CallAnnounceIn, responses={201: CallAnnouncedOut, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CallAnnounceIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            stream = services.call_announce(client=request.user, **data.validated_data)
        except ProtocolError as exc:
            return api_response(status.HTTP_400_BAD_REQUEST, exc.reason, kind="invalid",
                                errors={"caller_number": [exc.reason]})
        body = CallAnnouncedOut({"uuid": stream.call_id, "case": stream.case_id, "state": stream.state}).data
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/cases/{stream.case_id}/"
        return response
