"""REST API v1 as an integration client meets it: intake keys (revoked and expired refused), safe
retries with Idempotency-Key (sequential and concurrent, on MariaDB), one error format for every
error, throttling, ETags and `since` polling, and the unversioned paths of before."""

from __future__ import annotations

import base64
import io
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import api_key_issue, api_key_revoke, integration_client_create
from calls.models import Case, CaseEvent, IdempotencyKey, Note, Recording

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture
def intake(admin_user):
    """An integration client and a client that sends its key."""
    client = integration_client_create(admin=admin_user, name="pbx-lucknow")
    _, secret = api_key_issue(admin=admin_user, client=client, name="primary")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    api.integration = client
    return api


@pytest.fixture
def operator_api(operator):
    api = APIClient()
    api.force_authenticate(operator)
    return api


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_an_intake_key_pushes_calls_in_and_does_nothing_else(intake, upload, case_factory, speech_clip):
    from .conftest import encode

    created = intake.post("/api/v1/cases/", {"caller_number": "+91 98765 43210", "audio": upload("wav")},
                          format="multipart")
    assert created.status_code == 201, created.content
    case = Case.objects.get(pk=created.json()["id"])
    assert case.created_by == intake.integration.user and created["Location"] == f"/api/v1/cases/{case.pk}/"
    # a bare audio body, the details in the query string
    raw = intake.generic("POST", "/api/v1/cases/?caller_number=9876543210&language=hi", encode(speech_clip, "flac"),
                         content_type="audio/flac")
    assert raw.status_code == 201, raw.content
    assert raw.json()["language"] == "hi" and raw.json()["recordings"][0]["source_format"] == "flac"
    more = intake.post(f"/api/v1/cases/{case.pk}/recordings/", {"audio": upload("ogg")}, format="multipart")
    assert more.status_code == 201 and Recording.objects.filter(case=case).count() == 2
    others = case_factory()  # created by an operator: not this client's
    _problem(intake.post(f"/api/v1/cases/{others.pk}/recordings/", {"audio": upload("ogg")}, format="multipart"), 404)
    for method, path in (("post", f"/api/v1/cases/{case.pk}/claim/"), ("post", f"/api/v1/cases/{case.pk}/release/"),
                         ("post", f"/api/v1/cases/{case.pk}/close/"), ("post", f"/api/v1/cases/{case.pk}/notes/"),
                         ("get", "/api/v1/audits/"), ("get", "/api/v1/audits/items/"), ("get", "/api/v1/models/")):
        _problem(getattr(intake, method)(path), 403)
    # It follows its own calls (tests/test_api_rough_edges.py), never another's.
    _problem(intake.get(f"/api/v1/cases/{others.pk}/"), 404)
    assert others.pk not in [row["id"] for row in intake.get("/api/v1/cases/").json()["results"]]


def test_unknown_revoked_and_expired_keys_are_refused_and_logged(admin_user, intake, caplog):
    client = intake.integration
    key, secret = api_key_issue(admin=admin_user, client=client, name="spare",
                                expires_at=timezone.now() + timedelta(days=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    assert api.post("/api/v1/cases/", {"caller_number": "9876543210"}).status_code == 201
    api_key_revoke(admin=admin_user, key=key)
    body = _problem(api.post("/api/v1/cases/", {"caller_number": "9876543210"}), 401)
    assert "unknown, revoked or expired" in body["detail"]
    expired, secret = api_key_issue(admin=admin_user, client=client, name="old",
                                    expires_at=timezone.now() - timedelta(minutes=1))
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    _problem(api.post("/api/v1/cases/", {"caller_number": "9876543210"}), 401)
    api.credentials(HTTP_AUTHORIZATION="Api-Key abcdefgh.not-a-key")
    _problem(api.get("/api/v1/cases/"), 401)
    assert Case.objects.count() == 1
    refusals = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert any(f"prefix {expired.prefix!r}" in line for line in refusals) and any("'abcdefgh'" in line for line in refusals)


def test_a_retry_with_the_same_key_replays_the_first_answer(intake, upload):
    first = intake.post("/api/v1/cases/", {"caller_number": "9876543210", "audio": upload("wav")}, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="call-0001")
    retry = intake.post("/api/v1/cases/", {"caller_number": "9876543210", "audio": upload("wav")}, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="call-0001")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert retry["Location"] == first["Location"]
    assert Case.objects.count() == 1 and Recording.objects.count() == 1
    other = intake.post("/api/v1/cases/", {"caller_number": "9123456780"}, HTTP_IDEMPOTENCY_KEY="call-0001")
    assert "another request" in _problem(other, 422)["detail"] and Case.objects.count() == 1
    # a failed request keeps no answer: the corrected retry with the same key goes through
    bad = intake.post("/api/v1/cases/", {"caller_number": "12"}, HTTP_IDEMPOTENCY_KEY="call-0002")
    assert _problem(bad, 400)["errors"]["caller_number"]
    good = intake.post("/api/v1/cases/", {"caller_number": "9123456780"}, HTTP_IDEMPOTENCY_KEY="call-0002")
    assert good.status_code == 201 and Case.objects.count() == 2
    # after a day the key may be used again
    IdempotencyKey.objects.filter(key="call-0001").update(created_at=timezone.now() - timedelta(days=1, seconds=1))
    again = intake.post("/api/v1/cases/", {"caller_number": "9123456780"}, HTTP_IDEMPOTENCY_KEY="call-0001")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again and Case.objects.count() == 3


def test_keys_are_per_client_and_notes_are_idempotent_too(operator_api, operator2, case_factory):
    case = case_factory()
    for _ in range(2):
        assert operator_api.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "Caller rang twice"},
                                 HTTP_IDEMPOTENCY_KEY="n-1").status_code == 201
    other = APIClient()
    other.force_authenticate(operator2)
    assert other.post(f"/api/v1/cases/{case.pk}/notes/", {"text": "Caller rang twice"},
                      HTTP_IDEMPOTENCY_KEY="n-1").status_code == 201
    assert Note.objects.filter(case=case).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_one_case(admin_user):
    assert connection.vendor == "mysql", "the race is checked on MariaDB"
    client = integration_client_create(admin=admin_user, name="pbx-race")
    _, secret = api_key_issue(admin=admin_user, client=client, name="k")
    barrier, answers = threading.Barrier(4), []

    def send() -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
        barrier.wait()
        try:
            answers.append(api.post("/api/v1/cases/", {"caller_number": "9876543210", "location": "Ring Road"},
                                    HTTP_IDEMPOTENCY_KEY="race-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 4 and {a.status_code for a in answers} == {201}, [a.content for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(1 for a in answers if a.get("Idempotent-Replayed") == "true") == 3
    assert Case.objects.count() == 1 and CaseEvent.objects.filter(kind="created").count() == 1


def test_every_error_is_a_problem(operator_api, case_factory, settings):
    case = case_factory()
    body = _problem(operator_api.post("/api/v1/cases/", {"caller_number": ["x", "y"], "latitude": "north"}), 400)
    assert body["type"].endswith(":invalid") and {"caller_number", "latitude"} <= set(body["errors"])
    _problem(operator_api.post("/api/v1/cases/", {}), 400)  # missing fields
    for when in ("1006-07-24T06:33:00Z", "2030-01-01T10:00:00+05:30"):  # found by schemathesis; by trying
        assert "received_at" in _problem(operator_api.post("/api/v1/cases/", {"caller_number": "9876543210",
                                                                              "received_at": when}), 400)["errors"]
    _problem(operator_api.post("/api/v1/cases/", {"caller_number": 9876543210}, format="json"), 400)
    _problem(operator_api.post("/api/v1/cases/", "not json", content_type="application/json"), 400)
    _problem(operator_api.get("/api/v1/cases/999999999/"), 404)
    _problem(operator_api.get("/api/v1/no-such-thing/"), 404)
    _problem(operator_api.delete(f"/api/v1/cases/{case.pk}/"), 405)
    _problem(operator_api.post("/api/v1/cases/", "hello", content_type="text/plain"), 415)
    _problem(operator_api.get("/api/v1/cases/?band=purple"), 400)
    _problem(operator_api.get("/api/v1/cases/?since=yesterday"), 400)
    bad_audio = operator_api.post(f"/api/v1/cases/{case.pk}/recordings/", b"not audio at all",
                                  content_type="audio/wav")
    assert "not a recognisable audio file" in _problem(bad_audio, 400)["errors"]["audio"][0]
    settings.MAX_UPLOAD_MB = 1
    huge = operator_api.generic("POST", f"/api/v1/cases/{case.pk}/recordings/", b"\0" * (2 * 1024 * 1024),
                                content_type="audio/wav")
    _problem(huge, 413)
    operator_api.post(f"/api/v1/cases/{case.pk}/claim/")
    conflict = APIClient()
    conflict.force_authenticate(case_factory().created_by)
    anonymous = APIClient()
    _problem(anonymous.get("/api/v1/cases/"), 401)
    assert Recording.objects.filter(case=case).count() == 0


def test_clients_are_throttled_with_retry_after(intake, settings):
    from django.core.cache import cache

    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "intake": "3/min"}
    cache.delete(f"throttle_intake_{intake.integration.user.pk}")  # counts left in Redis by an earlier run
    for _ in range(3):
        assert intake.post("/api/v1/cases/", {"caller_number": "9876543210"}).status_code == 201
    body = _problem(throttled := intake.post("/api/v1/cases/", {"caller_number": "9876543210"}), 429)
    assert int(throttled["Retry-After"]) > 0 and "throttled" in body["detail"].lower()
    assert Case.objects.count() == 3


def test_reads_carry_an_etag_and_the_queue_polls_by_since(operator_api, case_factory):
    older, newer = case_factory(), case_factory()
    first = operator_api.get(f"/api/v1/cases/{older.pk}/")
    assert first.status_code == 200 and first["ETag"]
    same = operator_api.get(f"/api/v1/cases/{older.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert same.status_code == 304 and not same.content
    operator_api.post(f"/api/v1/cases/{older.pk}/notes/", {"text": "Called back"})
    changed = operator_api.get(f"/api/v1/cases/{older.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert "analysis" in changed.json() and changed.json()["notes"][0]["text"] == "Called back"
    mark = timezone.now()
    Case.objects.get(pk=newer.pk).save()  # any change stamps updated_at
    polled = operator_api.get("/api/v1/cases/", {"since": mark.isoformat()}).json()
    assert [row["id"] for row in polled["results"]] == [newer.pk]
    assert set(polled) >= {"next", "previous", "results"}


def test_the_queue_pages_by_cursor(operator_api, case_factory):
    ids = {case_factory().pk for _ in range(5)}
    seen, url = [], "/api/v1/cases/?page_size=2"
    while url:
        page = operator_api.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert set(seen) == ids and len(seen) == 5


def test_unversioned_paths_redirect_keeping_the_method(operator_api):
    response = operator_api.post("/api/cases/?x=1", {"caller_number": "9876543210"})
    assert response.status_code == 308 and response["Location"] == "/api/v1/cases/?x=1"
    assert not Case.objects.exists()


def test_the_documentation_pages_are_served_without_a_cdn(client):
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(path)
        assert page.status_code == 200 and b"cdn." not in page.content and b"/static/drf_spectacular_sidecar/" in page.content
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"IntakeApiKey" in schema.content and b"Idempotency-Key" in schema.content


def test_admins_read_model_versions_and_promote_one(admin_user, supervisor):
    from analysis.models import EmotionModelVersion

    api = APIClient()
    api.force_authenticate(admin_user)
    listing = api.get("/api/v1/models/").json()
    names = {row["name"]: row for row in listing["results"]}
    assert names["emotion-whisper-v1"]["active"] and names["emotion-whisper-v1"]["figures"]["ua"] > 0.7
    cnn = EmotionModelVersion.objects.get(name="emotion-ravdess-v2")
    _problem(api.post(f"/api/v1/models/{cnn.pk}/promote/", {}), 400)
    promoted = api.post(f"/api/v1/models/{cnn.pk}/promote/", {"reason": "compare on live traffic"})
    assert promoted.status_code == 200 and promoted.json()["active"]
    _problem(api.post(f"/api/v1/models/{cnn.pk}/promote/", {"reason": "again"}), 409)
    other = APIClient()
    other.force_authenticate(supervisor)
    _problem(other.get("/api/v1/models/"), 403)


def test_supervisors_audit_over_the_api(supervisor, case_factory, upload, operator):
    from audits.models import AuditItem

    case = case_factory(audio=upload("wav"))
    item = AuditItem.objects.create(case=case, recording=case.recordings.get(), reasons=["random"])
    api = APIClient()
    api.force_authenticate(supervisor)
    assert [row["id"] for row in api.get("/api/v1/audits/items/").json()["results"]] == [item.pk]
    answer = {"item": item.pk, "category": "painful", "genuine": True, "incident_type": "medical"}
    created = api.post("/api/v1/audits/", answer, format="json", HTTP_IDEMPOTENCY_KEY="audit-1")
    assert created.status_code == 201, created.content
    assert api.post("/api/v1/audits/", answer, format="json", HTTP_IDEMPOTENCY_KEY="audit-1").status_code == 201
    again = api.post("/api/v1/audits/", answer, format="json")
    assert "audited this call already" in _problem(again, 409)["detail"]
    assert [row["id"] for row in api.get("/api/v1/audits/").json()["results"]] == [created.json()["id"]]
    _problem(api.post("/api/v1/audits/", {**answer, "category": "purple"}, format="json"), 400)
    # "" is not an id nor null (schemathesis found a form's empty supersedes taken for null)
    empty = _problem(api.post("/api/v1/audits/", {**answer, "supersedes": ""}, format="multipart"), 400)
    assert "supersedes" in str(empty)
    as_operator = APIClient()
    as_operator.force_authenticate(operator)
    _problem(as_operator.get("/api/v1/audits/"), 403)


def test_the_key_commands_issue_and_revoke_for_scripts(admin_user, operator):
    import json

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    call_command("api_key_create", "pbx-cli", "--user", admin_user.username, "--days", "30", "--json", stdout=out)
    issued = json.loads(out.getvalue())
    assert issued["client"] == "pbx-cli" and issued["key"].startswith(issued["prefix"] + ".") and issued["expires"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued['key']}")
    assert api.post("/api/v1/cases/", {"caller_number": "9876543210"}).status_code == 201
    call_command("api_key_revoke", issued["prefix"], "--user", admin_user.username, stdout=io.StringIO())
    _problem(api.post("/api/v1/cases/", {"caller_number": "9876543210"}), 401)
    with pytest.raises(CommandError, match="revoked already"):
        call_command("api_key_revoke", issued["prefix"], "--user", admin_user.username)
    with pytest.raises(CommandError, match="Only an admin"):
        call_command("api_key_create", "pbx-cli", "--user", operator.username)


@pytest.mark.parametrize("cursor", [
    base64.b64encode(b"p=junk").decode(),  # a position that is no number
    base64.b64encode(b"p=inf&r=0").decode(),
    base64.b64encode(b"o=-3").decode(),
    "%%%not-base64",
    base64.b64encode("p=\u00e9".encode()).decode(),
])
def test_a_tampered_queue_cursor_is_bad_input_not_a_server_error(operator_api, case_factory, cursor):
    case_factory()
    body = _problem(operator_api.get("/api/v1/cases/", {"cursor": cursor}), 400)
    assert "cursor" in body["detail"]
