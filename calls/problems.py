"""One error format for the whole API: RFC 9457 problem details (``application/problem+json``).

Every error an API view raises or returns goes through :func:`exception_handler` (DRF's
EXCEPTION_HANDLER); errors Django answers before any view runs (an unknown URL, a body too large)
use :func:`problem_response`. A problem has ``type``, ``title``, ``status`` and ``detail``; invalid
fields add ``errors`` (field name -> messages, ``non_field_errors`` for the request as a whole).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import ActionRefused, CaseActionError, NotAllowed

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:112-portal:problem:"
security_log = logging.getLogger("security")

# Problem types with a meaning of their own; anything else is "about:blank" (the HTTP status says it all).
TYPES = {
    "invalid": "Invalid request",
    "conflict": "Conflicts with the case's state",
    "refused": "Refused as things stand",  # any other service refusal (a model version, a dataset)
    "idempotency-mismatch": "Idempotency key reused with another request",
}


def problem(status_code: int, detail: str, *, kind: str = "", title: str = "",
            errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{TYPE_BASE}{kind}" if kind else "about:blank",
        "title": title or TYPES.get(kind) or _status_title(status_code),
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(status_code: int, detail: str, **kwargs: Any) -> JsonResponse:
    """A problem answered outside DRF (URL not found, body too large, server error)."""
    return JsonResponse(problem(status_code, detail, **kwargs), status=status_code, content_type=PROBLEM_JSON)


def api_response(status_code: int, detail: str, **kwargs: Any) -> Response:
    """A problem answered by an API view."""
    return Response(problem(status_code, detail, **kwargs), status=status_code, content_type=PROBLEM_JSON)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped: the same status codes and headers (Retry-After, WWW-Authenticate),
    a problem body. The services' refusals map here too (not allowed: 403; against the case's state: 409)."""
    if isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, ActionRefused):
        kind = "conflict" if isinstance(exc, CaseActionError) else "refused"
        return api_response(status.HTTP_409_CONFLICT, str(exc), kind=kind)
    elif isinstance(exc, DjangoValidationError):  # a model's own check the serializer did not repeat
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return api_response(status.HTTP_400_BAD_REQUEST, "Some fields are missing or invalid; see errors.",
                            kind="invalid", errors={k: list(v) for k, v in errors.items()})
    elif isinstance(exc, RequestDataTooBig):
        return api_response(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, str(exc) or "The request body is too large.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    if response.status_code in (401, 403) and request is not None:
        security_log.warning("api %s refused %s %s for %s: %s", response.status_code, request.method,
                             request.path, getattr(request, "user", None) or "anonymous", _text(response.data))
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(response.data)
        response.data = problem(response.status_code, "Some fields are missing or invalid; see errors.",
                                kind="invalid", errors=errors)
    else:
        response.data = problem(response.status_code, _text(response.data))
    response.content_type = PROBLEM_JSON
    if request is not None:  # the schema's and docs' views render YAML or HTML: a problem is JSON always
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), PROBLEM_JSON
    return response


def _field_errors(data: Any) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {str(k): _messages(v) for k, v in data.items()}
    return {"non_field_errors": _messages(data)}


def _messages(value: Any) -> list[str]:
    if isinstance(value, list):
        return [m for item in value for m in _messages(item)]
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    return [str(value)]


def _text(data: Any) -> str:
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])
    return "; ".join(_messages(data))


def _status_title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


__all__ = ["PROBLEM_JSON", "api_response", "exception_handler", "problem",
           "problem_response"]
