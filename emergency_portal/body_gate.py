"""The reverse proxy asks here, before it reads a single byte of a request body, whether this client
may send that many bytes to that address.

Daphne buffers a whole request body (to disk past a threshold) before Django sees the request, so
a refusal from Django comes only after the body has arrived: an anonymous 300 MB POST to the dataset
import was received in full before its 403. nginx's ``auth_request`` runs in the access phase, before
the body is read: ``deploy/nginx/portal-server.conf`` sends every request that carries a body
(method other than GET/HEAD/OPTIONS) to ``/_gate/body/`` with the original path, method and declared
length, and refuses the request unread when this answers 401 or 403.

The cap depends on who asks and where (``body_limit_for``):
* nobody signed in (no session, no API key, no token): ``ANONYMOUS_BODY_LIMIT`` — enough for the
  login form, nothing like an upload;
* the dataset import (admins only): ``DATASET_MAX_UPLOAD_MB`` for an admin, the anonymous cap for
  anyone else;
* everyone else: the audio limit (``MAX_UPLOAD_MB``) plus the form's framing.
A body sent without a declared length (chunked) is judged by who sends it; nginx's own
``client_max_body_size`` per location then stops it at the route's largest cap while reading.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from rest_framework.exceptions import APIException

from accounts.login_guard import client_ip
from accounts.models import Role

from .middleware import _dataset_upload_prefix, body_limit_bytes

logger = logging.getLogger("security")

ANONYMOUS_BODY_LIMIT = 64 * 1024
ORIGINAL_URI = "HTTP_X_ORIGINAL_URI"
ORIGINAL_METHOD = "HTTP_X_ORIGINAL_METHOD"
ORIGINAL_LENGTH = "HTTP_X_ORIGINAL_LENGTH"


def _api_user(request: HttpRequest) -> object | None:
    """The user an API key or token names (DRF's authenticators, as the API itself reads them)."""
    from rest_framework.authentication import TokenAuthentication
    from rest_framework.request import Request

    from accounts.api_keys import ApiKeyAuthentication

    drf_request = Request(request)
    for authenticator in (ApiKeyAuthentication(), TokenAuthentication()):
        try:
            found = authenticator.authenticate(drf_request)
        except APIException:
            return None
        if found is not None:
            return found[0]
    return None


def _sender(request: HttpRequest) -> object | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return _api_user(request)


def body_limit_for(user: object | None, path: str) -> int:
    """The largest body `user` (None: nobody signed in) may send to `path`."""
    if user is None or not getattr(user, "is_active", False):
        return ANONYMOUS_BODY_LIMIT
    if path.startswith(_dataset_upload_prefix()) and not user.has_role(Role.ADMIN):  # type: ignore[attr-defined]
        return ANONYMOUS_BODY_LIMIT
    return body_limit_bytes(path)


def _declared(value: str) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_not_required  # it decides for everybody, the anonymous included
@never_cache
@require_safe  # nginx asks with GET (proxy_method GET): no body, no CSRF token
def body_gate(request: HttpRequest) -> HttpResponse:
    path = request.META.get(ORIGINAL_URI, "").split("?", 1)[0] or "/"
    method = request.META.get(ORIGINAL_METHOD, "POST")
    length = _declared(request.META.get(ORIGINAL_LENGTH, ""))
    sender = _sender(request)
    limit = body_limit_for(sender, path)
    answer = HttpResponse(status=204)
    answer["X-Body-Limit"] = str(limit)
    if length is None or length <= limit:
        return answer
    # 401 when nobody is signed in, 403 when this sender may not send this much here; nginx answers
    # either with its 413 page or problem (error_page), without reading the body.
    answer.status_code = 401 if sender is None else 403
    logger.warning("request body refused before reading: %d bytes to %s %s (limit %d) from %s as %s",
                   length, method, path, limit, client_ip(request),
                   getattr(sender, "username", "anonymous"))
    return answer
