"""Safe retries for POSTs that create something: the ``Idempotency-Key`` header (IETF draft
"The Idempotency-Key HTTP Header Field"; Stripe's idempotent requests).

The first request with a key runs and its successful answer is kept for a day; a retry with the same
key and the same request gets that answer again (``Idempotent-Replayed: true``) and creates nothing; the
same key with another request is refused (422). The key row is inserted before the work, inside the
request's transaction: a concurrent retry's insert waits on the unique constraint until the first
commits, then replays its answer. An answer that is not a success is not kept (the key stays free).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User

from .models import IdempotencyKey
from .problems import PROBLEM_JSON, api_response

HEADER = "Idempotency-Key"
LIFETIME = timedelta(days=1)
MAX_KEY_LENGTH = 255


def idempotent(post: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an API view's ``post`` (keys are per authenticated client)."""

    @wraps(post)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return post(view, request, *args, **kwargs)
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
            return api_response(status.HTTP_400_BAD_REQUEST, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable "
                                "characters.", kind="invalid", errors={HEADER: ["not a usable key"]})
        fingerprint = request_fingerprint(request)
        owner = cast(User, request.user)  # the views' permissions admit authenticated users only
        with transaction.atomic():
            # Forget this client's keys older than a day (this one included): the table stays small.
            IdempotencyKey.objects.filter(owner=owner, created_at__lt=timezone.now() - LIFETIME).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(owner=owner, key=key, fingerprint=fingerprint,
                                                           status_code=0, body={})
            except IntegrityError:  # a first request with this key has committed: replay it
                return _replay(IdempotencyKey.objects.get(owner=owner, key=key), fingerprint)
            response = post(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif not 200 <= response.status_code < 300:
                record.delete()
            else:
                record.status_code, record.body = response.status_code, _json(response.data)
                record.location = response.get("Location", "")
                record.save(update_fields=["status_code", "body", "location"])
        return response

    return wrapper


def _replay(record: IdempotencyKey, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return api_response(status.HTTP_422_UNPROCESSABLE_ENTITY, f"This {HEADER} was used for another request "
                            "in the last day; use a new key for a new request.", kind="idempotency-mismatch")
    response = Response(record.body, status=record.status_code,
                        content_type=PROBLEM_JSON if record.status_code >= 400 else None)
    response["Idempotent-Replayed"] = "true"
    if record.location:
        response["Location"] = record.location
    return response


def request_fingerprint(request: Request) -> str:
    """sha256 of what makes two requests the same: method, path, query, fields and files' contents
    (not the multipart boundary or the order of the fields)."""
    digest = hashlib.sha256(f"{request.method} {request.path}?{request.META.get('QUERY_STRING', '')}\n".encode())
    data = request.data
    if hasattr(data, "lists"):  # a form: a field may repeat
        items = list(data.lists())
    elif isinstance(data, dict):
        items = [(k, [v]) for k, v in data.items()]
    else:  # any other JSON body (a list, a number, true), refused later by the view's serializer
        items = [("", [data])]
    for name, values in sorted(items, key=lambda item: str(item[0])):
        for value in values:
            digest.update(f"{name}=".encode())
            if isinstance(value, UploadedFile):
                for chunk in value.chunks():
                    digest.update(chunk)
                value.seek(0)
            else:
                digest.update(json.dumps(value, sort_keys=True, default=str).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def _json(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))
