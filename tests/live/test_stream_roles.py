"""Who may open /ws/live/stream/: an intake client's key, and nobody else (operators' sessions
included); browsers' sockets keep their same-origin checks, machine clients send no Origin.
Who may open /ws/live/desk/: an operator's own session, on the portal's origin, and nobody else."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.test import Client

from accounts.api_keys import api_key_revoke
from accounts.models import ClientAPIKey
from calls.models import Case

from .helpers import DESK_PATH, HOST, ORIGIN, connect, key_headers

pytestmark = pytest.mark.django_db


def _attempt(headers, path: str | None = None) -> tuple[bool, object]:
    async def scenario():
        communicator, connected, code = await connect(headers, **({"path": path} if path else {}))
        await communicator.disconnect()
        return connected, code

    return async_to_sync(scenario)()


def _session(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    value = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={value}".encode())


def test_an_intake_key_without_origin_is_accepted(intake):
    assert _attempt(key_headers(intake[1])) == (True, None)


def test_no_key_is_refused_401():
    assert _attempt([HOST]) == (False, 4401)


@pytest.mark.parametrize("header", [b"Api-Key nope.nope", b"Bearer abc", b"Api-Key"])
def test_a_bad_key_is_refused_401(header):
    assert _attempt([HOST, (b"authorization", header)]) == (False, 4401)


def test_a_revoked_key_is_refused_401(intake, admin_user):
    api_key_revoke(admin=admin_user, key=ClientAPIKey.objects.get())
    assert _attempt(key_headers(intake[1])) == (False, 4401)


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
def test_a_portal_users_session_cannot_stream(users, role):
    """Same origin, logged in, the socket accepted by the browsers' checks: still no stream (4403)."""
    assert _attempt([ORIGIN, HOST, _session(users[role])]) == (False, 4403)


def test_an_operator_session_without_origin_is_not_a_login(operator):
    """The machine route reads no session at all: a cookie there is not a credential."""
    assert _attempt([HOST, _session(operator)]) == (False, 4401)


def test_a_cross_origin_browser_is_refused_even_with_a_key(intake):
    connected, _ = _attempt(key_headers(intake[1], (b"origin", b"https://evil.example")))
    assert connected is False


def test_other_routes_still_need_their_origin(operator):
    """Only the live stream path takes Origin-less sockets: the queue does not."""
    cookie = _session(operator)

    async def scenario():
        from channels.testing import WebsocketCommunicator

        from emergency_portal.asgi import application

        communicator = WebsocketCommunicator(application, "/ws/queue/", headers=[HOST, cookie])
        connected, _ = await communicator.connect(timeout=10)
        await communicator.disconnect()
        return connected

    assert async_to_sync(scenario)() is False
    assert not Case.objects.exists()


# -- the operator's desk (/ws/live/desk/) -----------------------------------------------------------

# Operators take calls; supervisors and admins oversee them (live.auth.DESK_ROLE); an intake client is a
# machine; nobody logged in is asked to log in.
DESK_ANSWER = {"operator": (True, None), "supervisor": (False, 4403), "admin": (False, 4403),
               "intake": (False, 4403), "anonymous": (False, 4401)}


@pytest.mark.parametrize("role", list(DESK_ANSWER))
def test_only_an_operators_session_opens_the_desk(users, make_user, role):
    user = {"intake": lambda: make_user("intake"), "anonymous": lambda: None}.get(role, lambda: users[role])()
    headers = [ORIGIN, HOST] + ([_session(user)] if user is not None else [])
    assert _attempt(headers, DESK_PATH) == DESK_ANSWER[role]


def test_the_desk_takes_no_machine_clients(intake, operator):
    """No Origin: not a browser, so not the desk; an intake key is not a login there either."""
    assert _attempt(key_headers(intake[1]), DESK_PATH)[0] is False
    assert _attempt([HOST, _session(operator)], DESK_PATH)[0] is False
    assert _attempt(key_headers(intake[1], ORIGIN), DESK_PATH) == (False, 4401)
    assert not Case.objects.exists()
