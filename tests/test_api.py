"""The REST API: telephony push with audio, token auth, claim conflicts and bad input."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from calls.models import Case, CaseStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(operator):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=operator).key}")
    return client


def test_telephony_push_creates_a_case_with_audio(api, upload):
    response = api.post(
        "/api/v1/cases/",
        {"caller_number": "+91 98765 43210", "language": "hi", "location": "Lucknow", "audio": upload("webm")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["caller_number"] == "+919876543210"
    assert body["audio_error"] is None
    assert body["recordings"][0]["source"] == "api"
    assert body["analysis_state"] == "analysing"


def test_bad_audio_over_the_api_still_creates_the_case(api):
    response = api.post(
        "/api/v1/cases/",
        {"caller_number": "9876543210", "audio": SimpleUploadedFile("x.wav", b"not audio")},
        format="multipart",
    )
    assert response.status_code == 201
    assert "not a recognisable audio file" in response.json()["audio_error"]
    assert Case.objects.count() == 1


def test_bad_fields_are_a_400_naming_the_field(api):
    response = api.post("/api/v1/cases/", {"caller_number": "12", "latitude": "91", "longitude": "10"})
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) >= {"caller_number", "latitude"}
    assert not Case.objects.exists()


def test_claim_conflict_is_409_with_a_message(api, case_factory, operator2):
    case = case_factory()
    assert api.post(f"/api/v1/cases/{case.pk}/claim/").status_code == 200
    other = APIClient()
    other.force_authenticate(operator2)
    response = other.post(f"/api/v1/cases/{case.pk}/claim/")
    assert response.status_code == 409
    assert "already claimed" in response.json()["detail"]


def test_close_through_the_api(api, case_factory):
    case = case_factory()
    api.post(f"/api/v1/cases/{case.pk}/claim/")
    assert api.post(f"/api/v1/cases/{case.pk}/close/", {"outcome": "nonsense", "reason": "x"}).status_code == 400
    response = api.post(f"/api/v1/cases/{case.pk}/close/", {"outcome": "dispatched_fire", "reason": "Fire brigade sent"})
    assert response.status_code == 200 and response.json()["status"] == CaseStatus.CLOSED


def test_queue_api_orders_by_priority(api, case_factory):
    low, high = case_factory(), case_factory()
    Case.objects.filter(pk=low.pk).update(queue_key=-1e15)
    ids = [row["id"] for row in api.get("/api/v1/cases/").json()["results"]]
    assert ids.index(high.pk) < ids.index(low.pk)


def test_openapi_schema_is_served(api):
    response = api.get("/api/v1/schema/")
    assert response.status_code == 200 and b"/api/v1/cases/" in response.content
