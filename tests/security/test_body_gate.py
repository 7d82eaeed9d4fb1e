"""The gate nginx asks before it reads a request body (emergency_portal/body_gate.py), judged here
the way nginx asks: GET /_gate/body/ with the original path, method and declared length, and the
client's own cookies or Authorization header. (tests/production/ runs it behind the real nginx.)"""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from accounts.api_keys import api_key_issue, integration_client_create
from emergency_portal.body_gate import ANONYMOUS_BODY_LIMIT

pytestmark = pytest.mark.django_db
MB = 1024 * 1024
GATE = "/_gate/body/"


def ask(client, path: str, length: int | None, method: str = "POST", **headers):
    meta = {"HTTP_X_ORIGINAL_URI": path, "HTTP_X_ORIGINAL_METHOD": method, **headers}
    if length is not None:
        meta["HTTP_X_ORIGINAL_LENGTH"] = str(length)
    return client.get(GATE, **meta)


def test_nobody_signed_in_may_send_no_more_than_a_login_form(client):
    assert ask(client, "/accounts/login/", 2_000).status_code == 204
    refused = ask(client, "/accounts/login/", 1 * MB)
    assert refused.status_code == 401 and refused["X-Body-Limit"] == str(ANONYMOUS_BODY_LIMIT)
    assert ask(client, "/api/v1/cases/", 10 * MB).status_code == 401
    assert ask(client, "/learning/datasets/", 300 * MB).status_code == 401


def test_a_signed_in_operator_may_upload_audio_but_not_a_dataset(client, operator):
    client.force_login(operator)
    assert ask(client, "/cases/new/", 40 * MB).status_code == 204
    assert ask(client, "/cases/new/", (settings.MAX_UPLOAD_MB + 2) * MB).status_code == 403
    assert ask(client, "/learning/datasets/", 300 * MB).status_code == 403


def test_an_admin_may_upload_a_dataset_archive(client, admin_user):
    client.force_login(admin_user)
    assert ask(client, "/learning/datasets/", 300 * MB).status_code == 204
    assert ask(client, "/learning/datasets/", (settings.DATASET_MAX_UPLOAD_MB + 2) * MB).status_code == 403


def test_an_intake_client_is_known_by_its_api_key_and_a_user_by_a_token(client, admin_user, operator):
    made = integration_client_create(admin=admin_user, name="exchange")
    _, secret = api_key_issue(admin=admin_user, client=made, name="primary")
    assert ask(client, "/api/v1/cases/", 40 * MB, HTTP_AUTHORIZATION=f"Api-Key {secret}").status_code == 204
    assert ask(client, "/api/v1/cases/", 40 * MB, HTTP_AUTHORIZATION="Api-Key not-a-key").status_code == 401
    token = Token.objects.create(user=operator)
    assert ask(client, "/api/v1/cases/", 40 * MB, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 204


def test_a_deactivated_user_counts_as_nobody(client, operator):
    client.force_login(operator)
    operator.is_active = False
    operator.save()
    assert ask(client, "/cases/new/", 1 * MB).status_code == 401


def test_a_body_without_a_declared_length_is_left_to_the_proxy_cap(client):
    """Chunked: nothing to judge before reading; nginx's client_max_body_size stops it while reading."""
    assert ask(client, "/accounts/login/", None).status_code == 204


def test_the_gate_takes_no_body_itself_and_is_never_cached(client):
    assert client.post(GATE, HTTP_X_ORIGINAL_URI="/", HTTP_X_ORIGINAL_LENGTH="1").status_code in (403, 405)
    answer = ask(client, "/", 10)
    assert "no-cache" in answer["Cache-Control"] or "max-age=0" in answer["Cache-Control"]


def test_a_refusal_is_a_security_event(client, caplog):
    with caplog.at_level("WARNING", logger="security"):
        ask(client, "/learning/datasets/", 300 * MB)
    assert any("request body refused before reading" in r.getMessage() and "/learning/datasets/" in r.getMessage()
               for r in caplog.records)
