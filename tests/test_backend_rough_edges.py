"""Issue 25's backend rough edges: the learning jobs dispatched by name (no import circle), refusals
named by what they refuse, management commands on an unmigrated database, the top-level
requirements.txt, idle sessions that a polling page does not keep alive, the emotion queue's own
short visibility timeout, and recordings read through the storage API only."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.files.storage import InMemoryStorage
from django.core.management import call_command, get_commands, load_command_class
from django.urls import reverse
from django.utils import timezone
from django.utils._os import safe_join

from accounts.management.base import PortalCommand
from analysis import dispatch
from analysis.exceptions import ModelVersionRefused, TriageSettingsRefused
from calls.exceptions import ActionRefused, CaseActionError, NotAllowed
from calls.models import AnalysisState
from emergency_portal.celery import _options_for_the_worker_queues, broker_transport_options
from emergency_portal.celery import app as celery_app
from learning import jobs
from learning.exceptions import DatasetRefused, JobRefused
from tests.conftest import REPO

PROJECT_APPS = {"accounts", "calls", "analysis", "audits", "learning", "backups"}
BACKGROUND = {"HTTP_X_BACKGROUND_REFRESH": "1"}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


# -- 1. learning: jobs dispatched by task name --------------------------------------------------


def test_each_learning_job_is_a_registered_task_routed_to_the_words_queue():
    import learning.tasks  # noqa: F401  (what a worker's autodiscovery imports)

    for name in (jobs.IMPORT_DATASET, jobs.TRAIN_MODEL, jobs.EVALUATE_MODELS):
        assert name in celery_app.tasks, name
        assert celery_app.amqp.router.route({}, name)["queue"].name == "words"


@pytest.fixture
def broker_db3(settings):
    """The Celery app publishing to a Redis database of this run's own, from a fresh connection pool."""
    broker = REDIS_URL.rsplit("/", 1)[0] + "/3"

    def reset():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    settings.ANALYSIS_BACKEND = "celery"
    celery_app.conf.broker_url = broker
    reset()
    with celery_app.connection_for_write() as conn:
        client = conn.default_channel.client
        client.delete("words")
        yield client
        client.delete("words")
    celery_app.conf.broker_url = django_settings.CELERY_BROKER_URL
    reset()


def test_a_job_is_sent_by_name_to_the_words_queue_and_not_run_here(broker_db3):
    ran = []
    jobs.job_dispatch(task=jobs.TRAIN_MODEL, job_id=7, run=lambda: ran.append(True))
    messages = [json.loads(raw) for raw in broker_db3.lrange("words", 0, -1)]
    assert [m["headers"]["task"] for m in messages] == ["learning.train_model"]
    assert json.loads(base64.b64decode(messages[0]["body"]))[0] == [7]
    assert ran == []


def test_in_the_embedded_run_a_job_runs_in_a_thread(settings):
    settings.ANALYSIS_BACKEND = "inprocess"
    ran = []
    jobs.job_dispatch(task=jobs.TRAIN_MODEL, job_id=7, run=lambda: ran.append(True))
    dispatch.wait_for_inprocess(timeout=10)
    assert ran == [True]


# -- 2. refusals named by what they refuse ------------------------------------------------------


def test_refusals_are_one_family_but_no_longer_case_errors():
    for kind in (DatasetRefused, JobRefused, ModelVersionRefused, TriageSettingsRefused, NotAllowed, CaseActionError):
        assert issubclass(kind, ActionRefused)
    for kind in (DatasetRefused, JobRefused, ModelVersionRefused, TriageSettingsRefused, NotAllowed):
        assert not issubclass(kind, CaseActionError), kind


@pytest.mark.django_db
def test_a_model_refusal_reaches_the_api_as_a_409_problem(admin_user):
    from rest_framework.test import APIClient

    from analysis.models import EmotionModelVersion

    active = EmotionModelVersion.objects.get(name="emotion-whisper-v1")  # the shipped default, active
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post(f"/api/v1/models/{active.pk}/promote/", {"reason": "again"}, format="json")
    assert response.status_code == 409, response.content
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["type"] == "urn:112-portal:problem:refused" and "active version already" in body["detail"]


# -- 3. management commands on a database that is not migrated ----------------------------------


def _manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="emergency_portal.test_settings")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("command", [["classify_audio", "call.wav"], ["model_list"], ["audit_report"]])
def test_a_command_on_a_fresh_database_says_to_migrate_first(tmp_path, command):
    fresh = tmp_path / "fresh.sqlite3"
    result = _manage(*command, database_url=f"sqlite:///{fresh}")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "has no tables yet: run `python manage.py migrate` first." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_command_on_an_unreachable_database_says_so(tmp_path):
    result = _manage("model_list", database_url=f"sqlite:///{tmp_path}/no-such-folder/db.sqlite3")
    assert result.returncode == 1 and "The database cannot be reached" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_on_a_migrated_database_the_commands_run(capsys):
    call_command("model_list")
    assert "emotion-whisper-v1" in capsys.readouterr().out


def test_every_command_of_the_portal_checks_its_database_first():
    ours = {name: app for name, app in get_commands().items() if app in PROJECT_APPS}
    assert "classify_audio" in ours and "model_list" in ours
    plain = sorted(name for name, app in ours.items() if not isinstance(load_command_class(app, name), PortalCommand))
    assert plain == [], f"derive these from accounts.management.base.PortalCommand: {plain}"


# -- 4. requirements.txt ------------------------------------------------------------------------


def test_requirements_txt_installs_the_pinned_hashed_runtime_set():
    lines = [line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()]
    options = [line for line in lines if line and not line.startswith("#")]
    assert options == ["-r requirements/base.txt"]
    base = (REPO / "requirements" / "base.txt").read_text()
    # pip's hash-checking mode: every requirement pinned with == and followed by its hashes
    requirements = [block for block in base.replace("\\\n", " ").splitlines()
                    if block.strip() and not block.lstrip().startswith(("#", "-"))]
    assert len(requirements) > 50
    unpinned = [r for r in requirements if "==" not in r or "--hash=sha256:" not in r]
    assert unpinned == []
    assert "\ndjango==" in base and "\ncelery==" in base and "\npytest==" not in base


# -- 5. idle sessions ---------------------------------------------------------------------------


def _expiry(client) -> object:
    return Session.objects.get(pk=client.session.session_key).expire_date


@pytest.mark.django_db
def test_a_background_refresh_does_not_renew_the_session_but_a_page_does(client, operator, settings):
    settings.SESSION_COOKIE_AGE = 600
    client.force_login(operator)
    client.get(reverse("calls:case_list"))
    before = _expiry(client)
    time.sleep(0.05)
    poll = client.get(reverse("calls:queue_rows"), **BACKGROUND)
    assert poll.status_code == 200 and "tr" in poll.content.decode()
    assert django_settings.SESSION_COOKIE_NAME not in poll.cookies
    assert _expiry(client) == before
    page = client.get(reverse("calls:case_list"))
    assert page.status_code == 200 and _expiry(client) > before


@pytest.mark.django_db
def test_with_a_short_idle_time_polling_alone_ends_the_session(client, operator, settings):
    settings.SESSION_COOKIE_AGE = 2
    client.force_login(operator)
    started = time.monotonic()
    while time.monotonic() - started < 1.5:  # the page polls; the person does nothing
        assert client.get(reverse("calls:queue_rows"), **BACKGROUND).status_code == 200
        time.sleep(0.5)
    time.sleep(max(0.0, 2.3 - (time.monotonic() - started)))
    ended = client.get(reverse("calls:queue_rows"), **BACKGROUND)
    assert ended.status_code == 401 and "Your session has ended" in ended.content.decode()
    api = client.get("/api/v1/cases/", **BACKGROUND)
    assert api.status_code == 401 and api["Content-Type"] == "application/problem+json"
    page = client.get(reverse("calls:case_list"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_with_a_short_idle_time_the_persons_own_requests_keep_it(client, operator, settings):
    settings.SESSION_COOKIE_AGE = 2
    client.force_login(operator)
    started = time.monotonic()
    while time.monotonic() - started < 3.0:  # longer than the idle time, but active
        assert client.get(reverse("calls:case_list")).status_code == 200
        time.sleep(0.5)
    assert client.get(reverse("calls:queue_rows"), **BACKGROUND).status_code == 200


@pytest.mark.django_db
def test_the_websocket_closes_once_the_session_has_expired(client, operator, monkeypatch):
    from tests.test_consumers import _communicator, _session_cookie

    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
    headers = _session_cookie(client, operator)
    key = dict(headers)[b"cookie"].decode().split("=", 1)[1]

    async def scenario():
        communicator = _communicator("/ws/queue/", headers)
        assert (await communicator.connect(timeout=5))[0]
        await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"type": "ping"})
        alive = await communicator.receive_json_from(timeout=5)
        await _expire(key)
        await communicator.send_json_to({"type": "ping"})
        return alive, await communicator.receive_output(timeout=5)

    from channels.db import database_sync_to_async

    @database_sync_to_async
    def _expire(session_key):  # as SESSION_IDLE_MINUTES without a request of the person's would
        Session.objects.filter(pk=session_key).update(expire_date=timezone.now() - timedelta(seconds=1))

    alive, closed = async_to_sync(scenario)()
    assert alive == {"type": "pong"}
    assert closed == {"type": "websocket.close", "code": 4401}


def test_the_pages_mark_their_background_refreshes():
    live = (REPO / "static" / "js" / "live.js").read_text()
    assert '"X-Background-Refresh": "1"' in live and "response.status === 401" in live
    for script in ("queue.js", "case.js", "operations.js", "live-section.js"):
        text = (REPO / "static" / "js" / script).read_text()
        assert "refreshFetch(" in text and " fetch(" not in text, script


# -- 6. the emotion queue's own visibility timeout ----------------------------------------------


def test_an_emotion_only_worker_gets_the_short_timeout_and_keys_of_its_own():
    emotion = broker_transport_options(["emotion"])
    assert emotion["visibility_timeout"] <= 120 and emotion["unacked_key"] != "unacked"
    for queues in (["emotion", "words"], ["words"], None):
        assert broker_transport_options(queues) == django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    conf = SimpleNamespace(broker_transport_options=None)
    _options_for_the_worker_queues(sender="emotion@host", conf=conf, options={"queues": ["emotion"]})
    assert conf.broker_transport_options == emotion


def test_a_killed_emotion_workers_task_comes_back_after_its_own_timeout_only():
    """Kombu against the real Redis: a message taken and never acknowledged (the worker was killed)
    is restored by the next emotion consumer after the emotion timeout, never by a consumer of the
    default keys (the words workers), however short theirs."""
    from kombu import Connection, Producer, Queue

    url = REDIS_URL.rsplit("/", 1)[0] + "/3"
    queue = f"emotion-test-{uuid.uuid4().hex[:8]}"
    emotion = dict(django_settings.EMOTION_BROKER_TRANSPORT_OPTIONS, visibility_timeout=1)
    words = dict(django_settings.CELERY_BROKER_TRANSPORT_OPTIONS, visibility_timeout=0.5)
    with Connection(url, transport_options=emotion) as killed:
        channel = killed.channel()
        Producer(channel).publish({"recording": 1}, routing_key=queue, declare=[Queue(queue)])
        assert channel.basic_get(queue, no_ack=False) is not None
        channel.qos.restore_at_shutdown = False  # killed -9: it never gives the message back
        client = channel.client
        try:
            assert client.llen(queue) == 0 and client.hlen(emotion["unacked_key"]) == 1
            time.sleep(1.2)
            with Connection(url, transport_options=words) as other:
                other.channel().qos.restore_visible(num=100)
            assert client.llen(queue) == 0  # not the words workers' to redeliver
            with Connection(url, transport_options=emotion) as restarted:
                restarted.channel().qos.restore_visible(num=100)
            assert client.llen(queue) == 1 and client.hlen(emotion["unacked_key"]) == 0
        finally:
            client.delete(queue, emotion["unacked_key"], emotion["unacked_index_key"])


# -- 7. recordings read through the storage API -------------------------------------------------


class NoLocalPathStorage(InMemoryStorage):
    """As an object store (S3 and the like) is: files to open, and no path on this machine."""

    def path(self, name: str) -> str:
        raise NotImplementedError("This backend doesn't support absolute paths.")

    def _relative_path(self, name: str) -> str:  # InMemoryStorage's own bookkeeping went through path()
        return os.path.relpath(safe_join(self.location, name), self.location)


@pytest.mark.django_db(transaction=True)
def test_the_analysis_and_the_picture_work_on_a_storage_without_local_paths(settings, case_factory, upload, client,
                                                                               operator):
    settings.ANALYSIS_BACKEND = "inprocess"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "tests.test_backend_rough_edges.NoLocalPathStorage"}}
    case = case_factory(audio=upload("wav"))
    recording = case.recordings.get()
    with pytest.raises(NotImplementedError):
        recording.normalised.path  # noqa: B018  (what another machine's worker would meet)
    dispatch.wait_for_inprocess(timeout=180)
    case.refresh_from_db()
    assert case.analysis_state == AnalysisState.DONE, case.analysis_error
    client.force_login(operator)
    picture = client.get(reverse("calls:recording_file", args=[recording.pk, "picture"]))
    assert picture.status_code == 200 and b"".join(picture.streaming_content)[:4] == b"\x89PNG"
