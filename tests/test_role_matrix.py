"""Every URL × every role, generated from the URL conf: a new view without a check fails here."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from calls.models import Recording

# The least role each named URL needs, and the method to try it with.
REQUIRED_ROLE = {
    "api_token": ("operator", "get"),
    "lockouts": ("supervisor", "get"),
    "calls:case_list": ("operator", "get"),
    "calls:case_create": ("operator", "get"),
    "calls:queue_rows": ("operator", "get"),
    "calls:case_detail": ("operator", "get"),
    "calls:case_claim": ("operator", "post"),
    "calls:case_release": ("operator", "post"),
    "calls:case_close": ("operator", "post"),
    "calls:case_reassign": ("supervisor", "post"),
    "calls:note_add": ("operator", "post"),
    "calls:recording_add": ("operator", "post"),
    "calls:recording_file": ("operator", "get"),
    "analysis:case_panel": ("operator", "get"),
    "analysis:priority_override": ("supervisor", "post"),
    "analysis:triage_settings": ("admin", "get"),
    "analysis:triage_settings_compare": ("admin", "get"),
    "analysis:triage_settings_restore": ("admin", "post"),
    "audits:queue": ("supervisor", "get"),
    "audits:item": ("supervisor", "get"),
    "audits:dashboard": ("supervisor", "get"),
    "audits:dashboard_chart": ("supervisor", "get"),
    "audits:operations": ("supervisor", "get"),
    "audits:operations_chart": ("supervisor", "get"),
    "audits:export": ("supervisor", "get"),
    "learning:model_list": ("admin", "get"),
    "learning:model_compare": ("admin", "get"),
    "learning:model_evaluate": ("admin", "post"),
    "learning:evaluation_confusion": ("admin", "get"),
    "learning:model_rollback": ("admin", "post"),
    "learning:model_detail": ("admin", "get"),
    "learning:model_confusion": ("admin", "get"),
    "learning:model_promote": ("admin", "post"),
    "learning:model_challenger": ("admin", "post"),
    "learning:words_model_list": ("admin", "get"),
    "learning:words_model_train": ("admin", "post"),
    "learning:words_model_rollback": ("admin", "post"),
    "learning:words_model_challenger": ("admin", "post"),
    "learning:words_model_promote": ("admin", "post"),
    "learning:dataset_list": ("admin", "get"),
    "learning:dataset_detail": ("admin", "get"),
    "learning:dataset_chart": ("admin", "get"),
    "learning:dataset_attribute_chart": ("admin", "get"),
    "learning:clip_audio": ("admin", "get"),
    "learning:clip_change": ("admin", "post"),
    "learning:training_list": ("admin", "get"),
    "learning:training_detail": ("admin", "get"),
    "learning:training_cancel": ("admin", "post"),
    "api:case_list": ("operator", "get"),
    "api:case_detail": ("operator", "get"),
    "api:case_claim": ("operator", "post"),
    "api:case_release": ("operator", "post"),
    "api:case_close": ("operator", "post"),
    "api:case_notes": ("operator", "post"),
    "api:case_recordings": ("operator", "post"),
    "api:audit_list": ("supervisor", "get"),
    "api:audit_items": ("supervisor", "get"),
    "api:model_list": ("admin", "get"),
    "api:model_detail": ("admin", "get"),
    "api:model_promote": ("admin", "post"),
    "api:live_call_announce": ("intake", "post"),
    "live:desk": ("operator", "get"),
}
# Reachable by anyone, or guarded by the Django admin's own login (tested in test_accounts); the API's
# schema and its documentation pages describe it, the unversioned paths only redirect to v1, and any
# other API path is a 404 for everyone (test_api_rough_edges). The reverse proxy asks the body gate
# about a request before anyone is known (emergency_portal/body_gate.py); browsers fetch the favicon.
PUBLIC = {"login", "logout", "api:schema", "api:docs", "api:redoc", "api_unversioned", "api:not_found",
          "body_gate", "favicon"}
# An integration client ("intake") ranks below every person: it may only push calls in, add audio to
# its own calls and read them (tested in test_api_v1 and test_api_rough_edges); every other URL of the
# matrix refuses it. The matrix's case was made by an operator, so it is not even found for the client.
INTAKE_OWN_CASES = {"api:case_list": 200, "api:case_detail": 404, "api:case_recordings": 404}
# Only an integration client announces a live call (live.api, tests/live); every person is refused.
INTAKE_ONLY = {"api:live_call_announce": 201}
# Only an operator takes a live call at their desk (live.auth.DESK_ROLE): supervisors and admins, who
# outrank operators everywhere else, are refused here.
OPERATOR_ONLY = {"live:desk": 200}
ROLES = ["anonymous", "intake", "operator", "supervisor", "admin"]
RANK = {role: i for i, role in enumerate(ROLES)}


def _named_patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            ns = entry.namespace or namespace
            yield from _named_patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern)


def test_every_url_is_in_the_matrix():
    names = {name for name, _ in _named_patterns()}
    unknown = names - set(REQUIRED_ROLE) - PUBLIC
    assert not unknown, f"Add these URLs to REQUIRED_ROLE with the role they need: {sorted(unknown)}"


def _path(route: str, case_id: int, recording_id: int, item_id: int = 0) -> str:
    from analysis.models import EmotionModelVersion, WordsModelVersion

    if "recordings/<int:pk>/<str:which>" in route:
        pk = recording_id
    elif route.startswith("audits/items/"):
        pk = item_id
    elif route.startswith(("learning/models/<int:pk>", "api/v1/models/<int:pk>")):
        pk = EmotionModelVersion.objects.get(name="emotion-ravdess-v2").pk
    elif route.startswith("learning/words-models/<int:pk>"):
        pk = WordsModelVersion.objects.get(name="words-v1").pk
    elif route.startswith("learning/datasets/<int:pk>"):

        pk = _matrix_dataset().pk
    elif route.startswith("learning/clips/<int:pk>"):
        from learning.models import DatasetClip

        pk = DatasetClip.objects.get_or_create(dataset=_matrix_dataset(), sha256="0" * 64, defaults={
            "audio": "datasets/clips/none.wav", "original_name": "x.wav", "label": "calm", "speaker": "1",
            "gender": "male", "duration_s": 1.0})[0].pk
    elif route.startswith("learning/training/<int:pk>"):
        from learning.models import TrainingRun

        pk = TrainingRun.objects.get_or_create(dataset=_matrix_dataset(), defaults={"started_by_id": _any_user()})[0].pk
    else:
        pk = case_id
    return "/" + (
        route.replace("<int:pk>", str(pk))
        .replace("<str:which>", "normalised")
        .replace("<int:version>", "1")
        .replace("attributes/<str:name>", "attributes/pitch_hz")
        .replace("dashboard/<str:name>", "dashboard/confusion")
        .replace("operations/<str:name>", "operations/waiting")
        .replace("^", "")
        .replace("$", "")
    )


def _matrix_dataset():
    from learning.models import Dataset

    return Dataset.objects.get_or_create(name="matrix", defaults={"source": "-", "created_by_id": _any_user()})[0]


def _any_user() -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.values_list("pk", flat=True).first()


@pytest.fixture
def case_with_audio(case_factory, upload, supervisor):
    case = case_factory(audio=upload("wav"))
    assert Recording.objects.filter(case=case).exists()
    return case


@pytest.fixture
def audit_item(case_with_audio):
    from audits.models import AuditItem

    return AuditItem.objects.create(case=case_with_audio, recording=case_with_audio.recordings.get(),
                                    reasons=["random"])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(users, case_with_audio, audit_item, role):
    client = Client()  # roles only here; CSRF has its own matrix below
    recording = case_with_audio.recordings.get()
    headers = {}
    if role == "intake":
        from accounts.api_keys import api_key_issue, integration_client_create

        integration = integration_client_create(admin=users["admin"], name="matrix-pbx")
        headers["HTTP_AUTHORIZATION"] = "Api-Key " + api_key_issue(admin=users["admin"], client=integration,
                                                                   name="m")[1]
        client.force_login(integration.user)  # it could never log in (no password); if it did, pages refuse it
    elif role != "anonymous":
        client.force_login(users[role])
    checked = 0
    for name, route in _named_patterns():
        if name in PUBLIC:
            continue
        needed, method = REQUIRED_ROLE[name]
        path = _path(route, case_with_audio.pk, recording.pk, audit_item.pk)
        api = path.startswith("/api/")
        response = getattr(client, method)(path, **(headers if api else {}))
        if role == "intake" and name in INTAKE_OWN_CASES:
            assert response.status_code == INTAKE_OWN_CASES[name], (name, response.status_code)
            if name == "api:case_list":  # its own calls only: none here
                assert response.json()["results"] == [], response.json()
        elif name in INTAKE_ONLY and role != "anonymous":
            expected = INTAKE_ONLY[name] if role == "intake" else 403
            assert response.status_code == expected, (name, role, response.status_code)
        elif name in OPERATOR_ONLY and role in ("supervisor", "admin"):
            assert response.status_code == 403, (name, role, response.status_code)
        elif role == "anonymous":
            if api:
                assert response.status_code in (401, 403), (name, response.status_code)
            else:
                assert response.status_code == 302 and "/accounts/login/" in response["Location"], name
        elif RANK[role] < RANK[needed]:
            assert response.status_code == 403, (name, role, response.status_code)
        else:
            assert response.status_code not in (401, 403), (name, role, response.status_code)
            assert not (response.status_code == 302 and "/accounts/login/" in response["Location"]), name
            if name in OPERATOR_ONLY:
                assert response.status_code == OPERATOR_ONLY[name], (name, role, response.status_code)
        checked += 1
    assert checked == len(REQUIRED_ROLE)


@pytest.mark.django_db
def test_every_page_post_needs_the_pages_csrf_token(client, admin_user, case_with_audio):
    """Pages use session cookies: a POST from another site (no token) is refused before any view runs."""
    recording = case_with_audio.recordings.get()
    client.force_login(admin_user)
    posts = [(name, route) for name, route in _named_patterns()
             if name in REQUIRED_ROLE and REQUIRED_ROLE[name][1] == "post" and not name.startswith("api:")]
    assert len(posts) >= 7
    for name, route in posts:
        response = client.post(_path(route, case_with_audio.pk, recording.pk), {})
        assert response.status_code == 403 and b"CSRF" in response.content, name
