"""Audit trail integrity: no history row — case events, notes, audits, analysis results, model
versions and activations, clip changes — can be edited or deleted, by any path. A test per path:
the ORM, the database itself (MariaDB), every page, every REST endpoint, every websocket route. The
Django admin is read-only for all of them: tests/test_no_back_door.py.

Every list here is generated (the append-only models from the app registry, the pages and the API
from the URL conf, the websocket routes from calls.routing): a new history model, page, endpoint or
consumer is tried without editing this file. New rows may appear (a note, a correction, a score):
appending is how history grows; every row that was there must still be there, unchanged.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import ProtectedError
from django.test import Client

from analysis import services as analysis_services
from analysis.models import EmotionModelVersion, ShadowPrediction, SupersededPrediction, WordsModelVersion
from analysis.words_registry import words_model_challenger_set, words_model_promote, words_model_register
from audits import services as audit_services
from audits.models import AuditItem
from calls import services
from calls.history import AppendOnlyModel
from calls.history_guard import append_only_tables, trigger_name
from calls.models import Outcome
from calls.routing import websocket_urlpatterns
from core.quality import auc_interval
from core.speech.transcript import Transcript, Word
from core.text.analysis import analyse
from core.triage.config import DEFAULT_CONFIG
from learning import services as learning_services
from learning.models import Dataset, DatasetClip

from .test_role_matrix import _named_patterns, _path

pytestmark = pytest.mark.django_db

APPEND_ONLY = sorted((m for m in apps.get_models() if issubclass(m, AppendOnlyModel)), key=lambda m: m._meta.label)


def _label(model) -> str:
    return model._meta.label


@pytest.fixture
def history(case_factory, upload, users, media_root):
    """At least one row of every append-only model, made the way the portal makes them."""
    operator, supervisor, admin = users["operator"], users["supervisor"], users["admin"]
    case = case_factory(audio=upload("wav"))
    recording = case.recordings.get()
    services.note_add(case=case, author=operator, text="Caller gave the street name")
    services.case_claim(case=case, operator=operator)
    services.case_close(case=case, user=operator, outcome=Outcome.HEALTH, reason="Ambulance sent")
    analysis_services.case_override_priority(case=case_factory(), supervisor=supervisor, score=80, reason="Known")
    analysis_services.triage_settings_save(admin=admin, weights=DEFAULT_CONFIG.weights,
                                           label_mapping=DEFAULT_CONFIG.label_mapping, max_wait_seconds=120,
                                           prank_history_days=7, note="shorter wait")
    item = AuditItem.objects.create(case=case, recording=recording, reasons=["random"])
    audit_services.audit_record(item=item, supervisor=supervisor, category="stressful", genuine=True,
                                incident_type="medical")
    analysis_services.audited_reliability_record(model_version="emotion-ravdess-v2",
                                                 interval=auc_interval([0.9, 0.2], [True, False]))
    cnn = EmotionModelVersion.objects.get(name="emotion-ravdess-v2")
    whisper = EmotionModelVersion.objects.get(name="emotion-whisper-v1")
    analysis_services.emotion_model_promote(version=cnn, admin=admin, reason="compare")
    analysis_services.emotion_model_challenger_set(version=whisper, admin=admin, reason="shadow it")
    ShadowPrediction.objects.create(recording=recording, version=whisper, result={"label": "fearful"})
    SupersededPrediction.objects.create(recording=recording, version=whisper, model_version=whisper.name,
                                        result={"label": "sad"}, superseded_by=admin)
    analysis_services.live_reading_record(
        case_id=case.pk, heard_seconds=3.0, behind_seconds=0.5, words=[Word(word="fire", start=1.0, end=1.4,
                                                                            confidence=0.9)],
        tentative="in the", text=analyse(Transcript(text="fire", words=[])), emotion=None)
    dataset = Dataset.objects.create(name="trail", source="-", created_by=admin)
    clip = DatasetClip.objects.create(dataset=dataset, sha256="1" * 64, audio="datasets/clips/x.wav",
                                      original_name="x.wav", label="angry", speaker="1", gender="female",
                                      duration_s=1.0)
    learning_services.clip_change(clip=clip, admin=admin, label="calm", excluded=False, reason="relabelled")
    words_folder = media_root / "models" / "words-trail"
    shutil.copytree(django_settings.BASE_DIR / "ml_models" / "words-v1", words_folder)
    words_meta = json.loads((words_folder / "metadata.json").read_text())
    (words_folder / "metadata.json").write_text(json.dumps({**words_meta, "version": "words-trail"}))
    words_model_promote(version=words_model_register(folder=words_folder, user=admin), admin=admin, reason="trail")
    words_model_challenger_set(version=WordsModelVersion.objects.get(name="words-v1"), admin=admin, reason="shadow")
    empty = [_label(m) for m in APPEND_ONLY if not m.objects.exists()]
    assert not empty, f"make a row of {empty} here: every append-only model must be tried"
    return {"case": case, "recording": recording, "item": item, "users": users}


def _snapshot() -> dict[str, dict[int, tuple]]:
    return {_label(m): {row.pk: tuple(getattr(row, f.attname) for f in m._meta.concrete_fields)
                        for row in m._base_manager.all()} for m in APPEND_ONLY}


def _assert_unchanged(before: dict[str, dict[int, tuple]], how: str) -> None:
    after = _snapshot()
    for label, rows in before.items():
        gone = sorted(set(rows) - set(after[label]))
        assert not gone, f"{how}: {label} rows {gone} were deleted"
        edited = [pk for pk, values in rows.items() if after[label][pk] != values]
        assert not edited, f"{how}: {label} rows {edited} were edited"


# -- the ORM ---------------------------------------------------------------------------------------


def _orm_attempts(model, row) -> dict:
    field = next(f for f in model._meta.concrete_fields if not f.primary_key)
    same = {field.attname: getattr(row, field.attname)}  # even a no-op update is an update
    attempts = {
        "save() of a stored row": row.save,
        "save(update_fields=...)": lambda: row.save(update_fields=[field.name]),
        "delete() of a row": row.delete,
        "queryset update()": lambda: model.objects.filter(pk=row.pk).update(**same),
        "queryset delete()": lambda: model.objects.all().delete(),
        "_base_manager update()": lambda: model._base_manager.filter(pk=row.pk).update(**same),
        "_base_manager delete()": lambda: model._base_manager.all().delete(),
        "bulk_update()": lambda: model.objects.bulk_update([row], [field.name]),
        "update_or_create() of a stored row": lambda: model.objects.update_or_create(pk=row.pk, defaults=same),
        "bulk_create(update_conflicts=True)": lambda: model.objects.bulk_create(
            [row], update_conflicts=True, update_fields=[field.name]),
        "select_for_update().update()": lambda: model.objects.select_for_update().filter(pk=row.pk).update(**same),
    }
    for fk in (f for f in model._meta.concrete_fields if f.many_to_one):  # a one-to-one has no manager
        parent, accessor = getattr(row, fk.name), fk.remote_field.get_accessor_name()
        if parent is None or not accessor or accessor.endswith("+"):
            continue
        related = getattr(parent, accessor)
        attempts[f"{fk.related_model._meta.label}.{accessor}.update()"] = lambda r=related: r.update(**same)
        attempts[f"{fk.related_model._meta.label}.{accessor}.all().delete()"] = lambda r=related: r.all().delete()
        if hasattr(related, "clear"):
            attempts[f"{fk.related_model._meta.label}.{accessor}.clear()"] = related.clear
    return attempts


@pytest.mark.parametrize("model", APPEND_ONLY, ids=_label)
def test_no_orm_path_edits_or_deletes_a_history_row(history, model):
    before = _snapshot()
    row = model.objects.order_by("pk").first()
    for how, attempt in _orm_attempts(model, row).items():
        with pytest.raises(ValidationError, match="append-only"), transaction.atomic():  # as a request would
            attempt()
        _assert_unchanged(before, f"{_label(model)}: {how}")


@pytest.mark.parametrize("model", APPEND_ONLY, ids=_label)
def test_no_cascade_reaches_history(model):
    """Deleting what a history row points at (a case, a user, a recording) is refused, never cascaded."""
    for field in model._meta.concrete_fields:
        if field.is_relation:
            assert field.remote_field.on_delete is models.PROTECT, f"{_label(model)}.{field.name}"


def test_deleting_a_case_or_a_user_with_history_is_refused(history):
    before = _snapshot()
    for parent in (history["case"], history["recording"], history["users"]["operator"], history["users"]["admin"]):
        with pytest.raises(ProtectedError), transaction.atomic():
            parent.delete()
    _assert_unchanged(before, "deleting a parent")


# -- the database itself ---------------------------------------------------------------------------


@pytest.mark.skipif("connection.vendor != 'mysql'", reason="the database guard is MariaDB/MySQL only (SQLite: the ORM's)")
def test_the_database_refuses_raw_updates_and_deletes_of_history(history):
    with connection.cursor() as cursor:
        cursor.execute("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION FROM information_schema.TRIGGERS "
                       "WHERE TRIGGER_SCHEMA = DATABASE()")
        guarded = set(cursor.fetchall())
    tables = append_only_tables()
    assert len(tables) == len(APPEND_ONLY)
    assert guarded >= {(trigger_name(t, op), t, op) for t in tables for op in ("UPDATE", "DELETE")}
    before = _snapshot()
    for model in APPEND_ONLY:
        table, column = model._meta.db_table, model._meta.pk.column
        for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
                c.execute(sql)
    _assert_unchanged(before, "raw SQL")


# -- every page, every REST endpoint ---------------------------------------------------------------


def _hostile(history) -> dict[str, object]:
    """Form fields that would rewrite or remove history, if any view listened to them."""
    case, item = history["case"], history["item"]
    event, note, audit = case.events.first(), case.notes.first(), item.audits.first()
    return {"text": "rewritten", "reason": "rewritten", "comment": "rewritten", "note": note.pk, "note_id": note.pk,
            "event": event.pk, "event_id": event.pk, "id": event.pk, "pk": event.pk, "audit": audit.pk,
            "supersedes": audit.pk, "created_at": "2000-01-01T00:00:00Z", "delete": "1", "action": "delete",
            "_method": "DELETE", "category": "calm", "genuine": "on", "incident_type": "other", "score": "1",
            "version": "1", "label": "calm", "excluded": "on", "outcome": Outcome.PRANK, "post": "yes",
            "status": "open", "kind": "closed", "base_score": "0", "band": "low"}


def _admin_client(history) -> Client:
    client = Client()  # no CSRF check: the page itself must refuse, not the token
    client.force_login(history["users"]["admin"])
    return client


def _routes(history, *, api: bool):
    recording, item = history["recording"], history["item"]
    for name, route in _named_patterns():
        if name in {"login", "logout", "api_unversioned"} or route.startswith("api/") != api:
            continue
        yield name, _path(route, history["case"].pk, recording.pk, item.pk)


def test_no_page_edits_or_deletes_history(history):
    client, data = _admin_client(history), _hostile(history)
    before, tried = _snapshot(), 0
    for name, path in _routes(history, api=False):
        for method in ("post", "put", "patch", "delete"):
            body = data if method == "post" else urlencode(data)
            extra = {} if method == "post" else {"content_type": "application/x-www-form-urlencoded"}
            response = getattr(client, method)(path, body, **extra)
            assert response.status_code < 500, (name, method, response.status_code)
            _assert_unchanged(before, f"{method.upper()} {path} ({name})")
            tried += 1
    assert tried >= 4 * 30


def test_every_api_endpoint_refuses_put_patch_delete_with_a_problem(history):
    client, data = _admin_client(history), json.dumps(_hostile(history))
    before, tried = _snapshot(), 0
    for name, path in _routes(history, api=True):
        for method in ("put", "patch", "delete"):
            response = getattr(client, method)(path, data, content_type="application/json")
            if name == "api:not_found":  # the catch-all: no endpoint there, so 404 for every method
                assert response.status_code == 404 and response["Content-Type"].startswith("application/problem+json")
                continue
            assert response.status_code == 405, (name, method, response.status_code)
            assert method.upper() not in response["Allow"], name
            # the schema and its readers too, though they render YAML and HTML otherwise
            assert response["Content-Type"].startswith("application/problem+json"), (name, response["Content-Type"])
            assert response.json()["status"] == 405, name
            tried += 1
        _assert_unchanged(before, f"PUT/PATCH/DELETE {path} ({name})")
    assert tried >= 3 * 12


# -- every websocket route -------------------------------------------------------------------------


@pytest.fixture
def own_channel_layer(settings, monkeypatch):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # database_sync_to_async closes "old" connections; in a test that is the test's own transaction.
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)


def _ws_messages(history) -> list[object]:
    case, item = history["case"], history["item"]
    event, note = case.events.first(), case.notes.first()
    return [
        {"type": "case.changed", "case": case.pk, "status": "open"},
        {"type": "case_changed", "case": case.pk, "event": "closed"},
        {"type": "note.delete", "id": note.pk}, {"type": "note.update", "id": note.pk, "text": "rewritten"},
        {"type": "event.update", "id": event.pk, "reason": "rewritten"}, {"type": "event.delete", "id": event.pk},
        {"type": "audit.delete", "id": item.audits.first().pk}, {"type": "training.changed", "state": "done"},
        {"action": "delete", "model": "calls.caseevent", "pk": event.pk},
        {"action": "update", "model": "audits.audit", "pk": item.audits.first().pk, "fields": {"category": "calm"}},
        {"type": "websocket.disconnect"}, [{"type": "note.delete", "id": note.pk}], "delete", 42, None,
    ]


def _ws_path(route: str, case_id: int) -> str:
    return "/" + route.replace("<int:pk>", str(case_id))


def test_no_websocket_message_edits_or_deletes_history(history, own_channel_layer):
    from emergency_portal.asgi import application

    admin_cookie = _session(history["users"]["admin"])
    before, messages = _snapshot(), _ws_messages(history)

    async def talk(path: str) -> None:
        communicator = WebsocketCommunicator(application, path, headers=admin_cookie)
        connected, _ = await communicator.connect(timeout=5)
        assert connected, path
        assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
        for message in messages:
            await communicator.send_json_to(message)
        await communicator.send_to(bytes_data=b"\x00\x01delete")
        await communicator.send_to(text_data='{"type": "note.delete", "id": ')  # not JSON
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}  # the only answer it gives
        assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()

    routes = [str(p.pattern) for p in websocket_urlpatterns]
    for route in routes:
        path = _ws_path(route, history["case"].pk)
        async_to_sync(talk)(path)
        _assert_unchanged(before, f"websocket {path}")
    assert len(routes) >= 3


def _session(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
    return [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"), (b"cookie", cookie.encode())]


def test_this_file_tries_every_history_model():
    """A new AppendOnlyModel lands in APPEND_ONLY by itself; the history fixture must make one of it."""
    assert {"calls.CaseEvent", "calls.Note", "audits.Audit", "audits.AuditItem", "analysis.TriageScore",
            "analysis.EmotionModelVersion", "analysis.EmotionModelActivation", "analysis.ShadowPrediction",
            "analysis.SupersededPrediction", "analysis.LiveReading", "learning.ClipChange"} <= {_label(m) for m in APPEND_ONLY}
