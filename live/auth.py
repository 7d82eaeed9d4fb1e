"""Who may stream: an intake client's API key, sent on the websocket handshake as it is on the API;
or, from the operator's desk (the browser's microphone), an operator's own login session."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed

from accounts.api_keys import ApiKeyAuthentication
from accounts.models import Role

from .protocol import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, ProtocolError

security_log = logging.getLogger("security")


def stream_client(scope: dict[str, Any]) -> Any:
    """The intake user of the key in ``Authorization: Api-Key <key>``, or ProtocolError 4401 (no or a
    bad key) / 4403 (a key or a browser session of anyone but an intake client). Call in a thread."""
    headers = dict(scope.get("headers") or [])
    address = (scope.get("client") or ["?"])[0]
    raw = headers.get(b"authorization")
    if not raw:
        session_user = scope.get("user")  # only on the browsers' route: a session never streams
        if session_user is not None and session_user.is_authenticated:
            security_log.warning("live stream refused: user=%s ip=%s reason=not an intake client",
                                 session_user.get_username(), address)
            raise ProtocolError(CLOSE_FORBIDDEN, "Only intake clients stream calls, with their API key.")
        raise ProtocolError(CLOSE_UNAUTHENTICATED, "Send the intake client's key: 'Authorization: Api-Key <key>'.")
    request = HttpRequest()  # what the API's authentication reads: the header and the address
    request.META.update({"HTTP_AUTHORIZATION": raw.decode("latin-1"), "REMOTE_ADDR": address})
    try:
        found = ApiKeyAuthentication().authenticate(request)
    except AuthenticationFailed as exc:
        raise ProtocolError(CLOSE_UNAUTHENTICATED, str(exc.detail)) from exc
    if found is None:
        raise ProtocolError(CLOSE_UNAUTHENTICATED, "Send the intake client's key: 'Authorization: Api-Key <key>'.")
    user = found[0]
    if not user.has_role(Role.INTAKE):
        security_log.warning("live stream refused: user=%s ip=%s reason=not an intake client", user, address)
        raise ProtocolError(CLOSE_FORBIDDEN, "Only intake clients stream calls.")
    return user


# Taking calls is the operator's job: supervisors and admins oversee the floor (they keep every other
# thing an operator can do) and do not take calls at a desk. The page, the nav bar, the socket and the
# service all ask takes_desk_calls, so a centre whose supervisors take calls too changes it here only.
DESK_ROLE = Role.OPERATOR


def takes_desk_calls(user: Any) -> bool:
    """Whether this person may take a live call at their desk: an active operator, nobody else."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role == DESK_ROLE)


def desk_operator(scope: dict[str, Any]) -> Any:
    """The operator of the session a desk's socket was opened with (the browsers' stack has checked
    its Origin and read its session), or ProtocolError 4401 (no login) / 4403 (not an operator)."""
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        raise ProtocolError(CLOSE_UNAUTHENTICATED, "Log in to take a live call.")
    if not takes_desk_calls(user):
        address = (scope.get("client") or ["?"])[0]
        security_log.warning("live desk refused: user=%s ip=%s reason=not an operator", user.get_username(), address)
        raise ProtocolError(CLOSE_FORBIDDEN, "Only operators take live calls at their desk.")
    return user
