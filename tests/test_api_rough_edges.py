"""The API's rough edges a phone system and a new user hit (issue 25): a malformed multipart body
answered by Twisted before Django (served by Daphne here), an intake client following its own calls,
unknown API paths under DEBUG, the schema's examples and bounds, a person's own API token, and what
the demo prints about its phone system's account."""

from __future__ import annotations

import pytest
import requests
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.api_keys import api_key_issue, integration_client_create
from calls import services
from calls.models import Case, CaseEvent, Note, Recording

from .daphne_server import daphne_server

PROBLEM = "application/problem+json"


@pytest.mark.django_db(transaction=True)
def test_a_multipart_body_with_only_its_closing_boundary_gets_a_problem_from_daphne(admin_user, case_factory):
    """Twisted used to answer it with a bare 400 (no body, no Content-Type) before Django ran."""
    from analysis.models import EmotionModelVersion

    case = case_factory()
    version = EmotionModelVersion.objects.first()
    token = Token.objects.create(user=admin_user)
    auth = {"Authorization": f"Token {token.key}"}
    with daphne_server() as url:
        for path, field in ((f"/api/v1/cases/{case.pk}/notes/", "text"),
                            (f"/api/v1/cases/{case.pk}/recordings/", "audio"),
                            (f"/api/v1/models/{version.pk}/promote/", "reason")):
            answer = requests.post(url + path, data=b"--XYZ--\r\n", timeout=30,
                                   headers={**auth, "Content-Type": "multipart/form-data; boundary=XYZ"})
            assert answer.status_code == 400, (path, answer.status_code)
            assert answer.headers["Content-Type"] == PROBLEM, (path, answer.headers)
            assert field in answer.json()["errors"], answer.json()
        # A well-formed multipart body still goes through, parsed once (by Django).
        note = requests.post(f"{url}/api/v1/cases/{case.pk}/notes/", files={"text": (None, "Caller rang back")},
                             headers=auth, timeout=30)
        assert note.status_code == 201, note.content
    assert list(Note.objects.values_list("text", flat=True)) == ["Caller rang back"]
    assert not Recording.objects.filter(case=case).exists()


def _intake_api(admin, name: str) -> APIClient:
    client = integration_client_create(admin=admin, name=name)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Api-Key " + api_key_issue(admin=admin, client=client, name="k")[1])
    return api


@pytest.mark.django_db
def test_an_intake_client_follows_the_calls_it_pushed_in_and_no_others(admin_user, operator, case_factory):
    pbx, other_pbx = _intake_api(admin_user, "pbx-pune"), _intake_api(admin_user, "pbx-agra")
    mine = [pbx.post("/api/v1/cases/", {"caller_number": f"98765432{i}0", "location": "Station Road"}) for i in (1, 2)]
    assert [m.status_code for m in mine] == [201, 201]
    theirs = other_pbx.post("/api/v1/cases/", {"caller_number": "9123456780"}).json()["id"]
    by_operator = case_factory().pk

    detail = pbx.get(mine[0]["Location"])  # the Location the 201 gave
    assert detail.status_code == 200, detail.content
    assert detail.json()["id"] == mine[0].json()["id"] and detail.json()["status"] == "open"
    assert "analysis" in detail.json() and detail["ETag"]
    listed = pbx.get("/api/v1/cases/")
    assert listed.status_code == 200
    assert sorted(row["id"] for row in listed.json()["results"]) == sorted(m.json()["id"] for m in mine)
    for pk in (theirs, by_operator):
        assert _problem_status(pbx.get(f"/api/v1/cases/{pk}/")) == 404
    assert [row["id"] for row in other_pbx.get("/api/v1/cases/").json()["results"]] == [theirs]

    # It sees what happens to its call: an operator claims and closes it.
    case = Case.objects.get(pk=mine[0].json()["id"])
    services.case_claim(case=case, operator=operator)
    assert pbx.get(f"/api/v1/cases/{case.pk}/").json()["status"] == "claimed"
    services.case_close(case=Case.objects.get(pk=case.pk), user=operator, outcome="resolved", reason="Advice given")
    closed = pbx.get("/api/v1/cases/?status=closed").json()["results"]
    assert [(row["id"], row["outcome"]) for row in closed] == [(case.pk, "resolved")]

    # Reading is all it gained: it still changes nothing but its own audio.
    events = CaseEvent.objects.count()
    open_case = mine[1].json()["id"]
    for action, body in (("claim", {}), ("release", {}), ("close", {"outcome": "prank", "reason": "x"}),
                         ("notes", {"text": "from the phone system"})):
        assert _problem_status(pbx.post(f"/api/v1/cases/{open_case}/{action}/", body)) == 403
    assert CaseEvent.objects.count() == events and not Note.objects.exists()
    assert Case.objects.get(pk=open_case).status == "open"


def _problem_status(response) -> int:
    assert response["Content-Type"] == PROBLEM, response["Content-Type"]
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_unknown_api_path_is_a_problem_404_in_every_mode(settings, client, operator, debug):
    settings.DEBUG = debug  # with DEBUG on, Django used to answer with its HTML page listing every URL
    client.force_login(operator)
    for method, path in (("get", "/api/v1/no-such-thing/"), ("get", "/api/v1/"), ("post", "/api/v1/cases/1/nope/"),
                         ("delete", "/api/v1/x/y/z"), ("get", "/api/nothing/here/")):
        response = getattr(client, method)(path)
        if response.status_code == 308:  # an unversioned path is sent on to v1 first
            response = getattr(client, method)(response["Location"])
        assert response.status_code == 404, (path, response.status_code)
        assert response["Content-Type"] == PROBLEM, (path, response["Content-Type"])
        body = response.json()
        assert body["status"] == 404 and body["title"] == "Not found" and "/api/v1/docs/" in body["detail"]
        assert b"URLconf" not in response.content
    # A path that only lacks its trailing slash is sent on with its method and body (308), not lost.
    missing_slash = client.post("/api/v1/cases?x=1", {"caller_number": "9876543210"})
    assert missing_slash.status_code == 308 and missing_slash["Location"] == "/api/v1/cases/?x=1"
    assert client.get("/api/v1/schema").status_code == 308


def _properties(schema: dict):
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            yield f"{name}.{field}", spec


@pytest.mark.django_db
def test_the_schema_examples_are_readable_and_its_bounds_fit_a_json_reader(client):
    import re

    schema = client.get("/api/v1/schema/?format=json").json()
    properties = dict(_properties(schema))
    decimals = {name: spec for name, spec in properties.items() if spec.get("format") == "decimal"}
    assert {"CaseInRequest.latitude", "CaseOut.longitude"} <= set(decimals)
    for name, spec in decimals.items():
        pattern = re.compile(spec["pattern"])
        assert pattern.match(spec["example"]), name  # Swagger UI showed "-" (the pattern's shortest match)
        assert not any(pattern.match(bad) for bad in ("-", "", ".", "1e2")), name
    for name, spec in properties.items():
        if spec.get("type") == "integer" and "maximum" in spec:
            assert spec["maximum"] <= 2**53 - 1, name  # 2**64 - 1 read as 9223372036854776000 in the docs
    assert properties["RecordingOut.size_bytes"]["example"] == 96_044
    assert properties["CaseInRequest.latitude"]["example"] == "28.613939"


@pytest.mark.django_db
def test_coordinates_are_taken_as_the_schema_writes_them(operator):
    api = APIClient()
    api.force_authenticate(operator)
    for latitude, longitude in (("1e1", "77.2"), (".5", "77.2"), ("-", "77.2"), ("28.6", "200")):
        refused = api.post("/api/v1/cases/", {"caller_number": "9876543210", "latitude": latitude,
                                              "longitude": longitude}, format="json")
        assert refused.status_code == 400 and refused["Content-Type"] == PROBLEM, (latitude, refused.content)
        assert set(refused.json()["errors"]) & {"latitude", "longitude"}
    assert not Case.objects.exists()
    taken = api.post("/api/v1/cases/", {"caller_number": "9876543210", "latitude": "-28.6", "longitude": 77.209021},
                     format="json")
    assert taken.status_code == 201, taken.content
    assert (taken.json()["latitude"], taken.json()["longitude"]) == ("-28.600000", "77.209021")


@pytest.mark.django_db
def test_a_person_makes_replaces_and_revokes_their_own_api_token_on_the_token_page(client, operator, caplog):
    client.force_login(operator)
    page = client.get("/accounts/token/")
    assert page.status_code == 200 and b"You have no token" in page.content and b"/api/v1/docs/" in page.content
    made = client.submit("/accounts/token/", data={"do": "renew"})
    key = Token.objects.get(user=operator).key
    assert made.status_code == 200 and key.encode() in made.content and "no-store" in made["Cache-Control"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/cases/").status_code == 200
    assert key.encode() not in client.get("/accounts/token/").content  # shown once

    client.submit("/accounts/token/", data={"do": "renew"})  # the old key stops working
    assert api.get("/api/v1/cases/").status_code == 401
    newer = Token.objects.get(user=operator).key
    api.credentials(HTTP_AUTHORIZATION=f"Token {newer}")
    assert api.get("/api/v1/cases/").status_code == 200
    revoked = client.submit("/accounts/token/", data={"do": "revoke"})
    assert b"Your token was revoked" in revoked.content and not Token.objects.exists()
    assert api.get("/api/v1/cases/").status_code == 401
    bad = client.submit("/accounts/token/", data={"do": "someone-else"})
    assert bad.status_code == 400 and not Token.objects.exists()
    lines = [r.getMessage() for r in caplog.records if r.name == "security"]
    assert any("api token created" in line for line in lines) and any("api token revoked" in line for line in lines)


@pytest.mark.django_db
def test_the_token_page_refuses_a_forged_post_intake_clients_and_strangers(client, operator, admin_user):
    from accounts.api_keys import integration_client_create as make_client

    client.force_login(operator)
    assert client.post("/accounts/token/", {"do": "renew"}).status_code == 403  # no CSRF token
    pbx = make_client(admin=admin_user, name="pbx-token").user
    client.force_login(pbx)
    assert client.get("/accounts/token/").status_code == 403
    client.logout()
    assert client.get("/accounts/token/")["Location"].startswith("/accounts/login/")
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_the_demo_prints_what_its_phone_system_account_is_and_a_key_that_works(settings, case_factory):
    import io
    import re

    from django.core.management import call_command

    from accounts.models import IntegrationClient

    settings.DEMO_MODE = True
    case_factory()  # cases exist: no demo calls to analyse here (test_demo_calls covers those)
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    text = out.getvalue()
    assert "phone system" in text and "http://127.0.0.1:8000/api/v1/docs/" in text
    assert "/accounts/token/" in text and "manage.py api_key_create demo-intake" in text
    assert "Intake client" not in text  # no password for an account that never signs in
    key = re.search(r'Authorization: Api-Key (\S+)"', text).group(1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    created = api.post("/api/v1/cases/", {"caller_number": "+919876543210"})
    assert created.status_code == 201, created.content
    assert api.get(created["Location"]).status_code == 200
    assert IntegrationClient.objects.get(name="demo-intake").user.role == "intake"

    again = io.StringIO()
    call_command("demo_setup", stdout=again)  # a second run prints no key and makes no second client
    assert key not in again.getvalue() and "exists already" in again.getvalue()
    assert IntegrationClient.objects.count() == 1
