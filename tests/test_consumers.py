"""Websocket routes: who may connect, and which change notices reach them.

Driven through the real ASGI application (origin validator, session auth, URL router), with the
channel layer from the settings (Redis in CI) under a prefix of its own.
"""

from __future__ import annotations

import os
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client, TestCase

from calls import broadcast, services
from emergency_portal.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1")
HOST = (b"host", b"127.0.0.1")
ROLES = ["anonymous", "operator", "supervisor", "admin"]


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch):
    """database_sync_to_async closes "old" connections; in a test that is the test's own transaction."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


@pytest.fixture(autouse=True)
def own_channel_layer(settings):
    """Other test runs may share the Redis server: keep this run's groups apart."""
    layers = {name: dict(config) for name, config in django_settings.CHANNEL_LAYERS.items()}
    default = layers["default"]
    if "RedisChannelLayer" in default["BACKEND"]:
        default["CONFIG"] = dict(default["CONFIG"], prefix=f"test-ws-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    settings.CHANNEL_LAYERS = layers


def _session_cookie(client, user) -> list[tuple[bytes, bytes]]:
    if user is None:
        return [ORIGIN, HOST]
    client = Client()  # one per user: logging another user in on the same client ends the first session
    client.force_login(user)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    return [ORIGIN, HOST, (b"cookie", cookie.encode())]


def _communicator(path: str, headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=headers)


def _try_connect(path: str, headers) -> tuple[bool, dict | None]:
    async def attempt():
        communicator = _communicator(path, headers)
        connected, _ = await communicator.connect(timeout=5)
        hello = await communicator.receive_json_from(timeout=5) if connected else None
        await communicator.disconnect()
        return connected, hello

    return async_to_sync(attempt)()


def _committed(fn):
    """Run a service in the test's thread and fire its on-commit broadcasts, as a real commit would."""

    def run():
        with TestCase.captureOnCommitCallbacks(execute=True):
            return fn()

    return sync_to_async(run)


@pytest.fixture
def role_users(users):
    return {"anonymous": None, **users}


ROUTE_ROLE = {"/ws/queue/": "operator", "/ws/training/": "admin"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(ROUTE_ROLE))
@pytest.mark.parametrize("role", ROLES)
def test_route_admits_only_its_roles(client, role_users, path, role):
    connected, hello = _try_connect(path, _session_cookie(client, role_users[role]))
    should = role != "anonymous" and ROLES.index(role) >= ROLES.index(ROUTE_ROLE[path])
    assert connected is should
    if should:
        assert hello == {"type": "hello", "v": broadcast.PAYLOAD_VERSION}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_case_route_admits_operators_and_up(client, role_users, case_factory, role):
    case = case_factory()
    connected, _ = _try_connect(f"/ws/cases/{case.pk}/", _session_cookie(client, role_users[role]))
    assert connected is (role != "anonymous")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/ws/queue/", "/ws/training/", "/ws/cases/{pk}/"])
def test_forged_origin_is_refused(client, admin_user, case_factory, path):
    case = case_factory()
    headers = _session_cookie(client, admin_user)
    headers[0] = (b"origin", b"https://evil.example")
    connected, _ = _try_connect(path.format(pk=case.pk), headers)
    assert connected is False


@pytest.mark.django_db
def test_missing_origin_is_refused(client, admin_user):
    headers = _session_cookie(client, admin_user)[1:]
    assert _try_connect("/ws/queue/", headers)[0] is False


@pytest.mark.django_db
def test_case_not_visible_to_the_operator_is_refused(client, operator, operator2, case_factory):
    case = case_factory()
    services.case_claim(case=case, operator=operator2)
    services.case_close(case=case, user=operator2, outcome="resolved", reason="done")
    headers = _session_cookie(client, operator)

    async def attempt():
        communicator = _communicator(f"/ws/cases/{case.pk}/", headers)
        result = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return result

    assert async_to_sync(attempt)() == (False, 4404)


@pytest.mark.django_db
def test_unknown_case_is_refused(client, supervisor):
    assert _try_connect("/ws/cases/999999/", _session_cookie(client, supervisor))[0] is False


@pytest.mark.django_db
def test_inactive_user_is_refused(client, operator):
    headers = _session_cookie(client, operator)
    operator.is_active = False
    operator.save()
    assert _try_connect("/ws/queue/", headers)[0] is False


@pytest.mark.django_db
def test_queue_and_case_streams_carry_each_change(client, operator, operator2, supervisor, case_factory):
    case = case_factory()
    queue_headers = _session_cookie(client, operator2)
    case_headers = _session_cookie(client, supervisor)

    async def scenario():
        queue = _communicator("/ws/queue/", queue_headers)
        watcher = _communicator(f"/ws/cases/{case.pk}/", case_headers)
        assert (await queue.connect(timeout=5))[0] and (await watcher.connect(timeout=5))[0]
        for communicator in (queue, watcher):
            assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"

        async def expect(kind):
            for communicator in (queue, watcher):
                message = await communicator.receive_json_from(timeout=5)
                assert message == {"type": "case", "v": 1, "case": case.pk, "kind": kind}

        await _committed(lambda: services.case_claim(case=case, operator=operator))()
        await expect("claimed")
        await _committed(lambda: services.note_add(case=case, author=operator, text="Caller calm now"))()
        await expect("note_added")
        await _committed(lambda: services.case_release(case=case, user=operator, reason="shift end"))()
        await expect("released")
        await _committed(lambda: services.case_claim(case=case, operator=operator2))()
        await expect("claimed")
        await _committed(
            lambda: services.case_close(case=case, user=operator2, outcome="resolved", reason="help sent")
        )()
        await expect("closed")
        # Nothing else leaked onto either stream.
        assert await queue.receive_nothing(timeout=0.2)
        assert await watcher.receive_nothing(timeout=0.2)
        await queue.disconnect()
        await watcher.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
def test_queue_hears_new_cases_and_scores_but_not_other_cases_stream(client, operator, case_factory):
    other = case_factory()
    headers = _session_cookie(client, operator)

    async def scenario():
        queue = _communicator("/ws/queue/", headers)
        watcher = _communicator(f"/ws/cases/{other.pk}/", headers)
        await queue.connect(timeout=5)
        await watcher.connect(timeout=5)
        await queue.receive_json_from(timeout=5)
        await watcher.receive_json_from(timeout=5)
        new = await _committed(lambda: services.case_create(created_by=operator, caller_number="+91 98765 43211"))()
        kinds = [(await queue.receive_json_from(timeout=5))["kind"] for _ in range(2)]
        assert sorted(kinds) == ["created", "score_changed"]
        assert await watcher.receive_nothing(timeout=0.2), "another case's stream stays quiet"
        await queue.disconnect()
        await watcher.disconnect()
        return new

    result = async_to_sync(scenario)()
    assert result.case.pk != other.pk


@pytest.mark.django_db
def test_training_stream_carries_job_progress(client, admin_user):
    headers = _session_cookie(client, admin_user)

    async def scenario():
        communicator = _communicator("/ws/training/", headers)
        await communicator.connect(timeout=5)
        await communicator.receive_json_from(timeout=5)
        await sync_to_async(broadcast.training_changed)(7, "running", epoch=3, of=20)
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return message

    assert async_to_sync(scenario)() == {"type": "training", "v": 1, "job": 7, "state": "running", "epoch": 3, "of": 20}


@pytest.mark.django_db
def test_ping_is_answered_and_other_input_ignored(client, operator):
    headers = _session_cookie(client, operator)

    async def scenario():
        communicator = _communicator("/ws/queue/", headers)
        await communicator.connect(timeout=5)
        await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"type": "claim", "case": 1})
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.send_json_to({"type": "ping"})
        reply = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return reply

    assert async_to_sync(scenario)() == {"type": "pong"}


@pytest.mark.django_db
@pytest.mark.parametrize("origin", [b"http://127.0.0.1:8081", b"http://127.0.0.1.evil.example", b"null",
                                    b"chrome-extension://abc"])
def test_an_origin_of_another_port_or_scheme_on_the_same_host_is_refused(client, admin_user, origin):
    headers = _session_cookie(client, admin_user)
    headers[0] = (b"origin", origin)
    assert _try_connect("/ws/queue/", headers)[0] is False


@pytest.mark.django_db
def test_under_https_a_plain_http_origin_is_refused(client, admin_user, settings):
    settings.SECURE_SSL = True
    headers = _session_cookie(client, admin_user)
    assert _try_connect("/ws/queue/", headers)[0] is False
    headers[0] = (b"origin", b"https://127.0.0.1")
    assert _try_connect("/ws/queue/", headers)[0] is True


@pytest.mark.django_db
def test_an_unknown_route_is_closed_cleanly(client, admin_user):
    headers = _session_cookie(client, admin_user)

    async def attempt():
        communicator = _communicator("/ws/nothing-here/", headers)
        connected, code = await communicator.connect(timeout=5)
        # Let the consumer finish before the loop closes: left running, its task was cancelled at the
        # loop's close while it waited on the main thread, and one CI run hung there for good.
        await communicator.disconnect()
        return connected, code

    assert async_to_sync(attempt)() == (False, 4404)


def _session_of(user) -> tuple[Client, list[tuple[bytes, bytes]]]:
    browser = Client()
    browser.force_login(user)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={browser.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    return browser, [ORIGIN, HOST, (b"cookie", cookie.encode())]


@pytest.mark.django_db
def test_logging_out_closes_that_sessions_sockets_and_deactivation_closes_all(admin_user, operator):
    browser, headers = _session_of(admin_user)
    _, other_headers = _session_of(operator)

    async def run():
        mine = _communicator("/ws/queue/", headers)
        theirs = _communicator("/ws/queue/", other_headers)
        assert (await mine.connect(timeout=5))[0] and (await theirs.connect(timeout=5))[0]
        await mine.receive_json_from(timeout=5)
        await theirs.receive_json_from(timeout=5)
        await sync_to_async(browser.logout)()
        assert await mine.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
        assert await theirs.receive_nothing(timeout=0.5)  # another user's session stays
        operator.is_active = False
        await sync_to_async(operator.save)()
        assert await theirs.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}

    async_to_sync(run)()
