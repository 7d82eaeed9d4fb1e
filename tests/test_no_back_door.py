"""History and state change only through the services: Django admin is read-only, history rows
are append-only, and the services that change a case lock, validate, record and broadcast."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from analysis import services as analysis_services
from analysis.models import AnalysisStep, TriageScore
from calls import services
from calls.models import Case, CaseEvent, CaseStatus, EventKind, Note, Outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed_case(case_factory, operator, upload):
    case = case_factory(audio=upload("wav"))
    services.case_claim(case=case, operator=operator)
    services.note_add(case=case, author=operator, text="Caller gave the street name")
    return case


def _snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return case.status, case.claimed_by_id, case.outcome, case.priority_base, case.events.count()


def test_a_post_to_the_admin_change_form_of_a_case_is_refused_and_changes_nothing(client, admin_user, claimed_case):
    before = _snapshot(claimed_case)
    client.force_login(admin_user)
    url = reverse("admin:calls_case_change", args=[claimed_case.pk])
    token = client.csrf_token(url)  # admins may look; the token makes the refusal the admin's, not CSRF's
    response = client.post(url, {"caller_number": "+919999999999", "status": CaseStatus.CLOSED,
                                 "outcome": Outcome.PRANK, "close_reason": "edited in admin",
                                 "priority_base": 1, "csrfmiddlewaretoken": token})
    assert response.status_code == 403 and b"CSRF" not in response.content
    assert _snapshot(claimed_case) == before


@pytest.mark.parametrize("url_name, model, what", [
    ("admin:calls_note_delete", Note, "note"),
    ("admin:calls_caseevent_delete", CaseEvent, "event"),
    ("admin:analysis_triagescore_delete", TriageScore, "score"),
    ("admin:analysis_analysisstep_delete", AnalysisStep, "step"),
])
def test_admin_cannot_delete_history(client, admin_user, claimed_case, url_name, model, what):
    row = model.objects.first()
    count = model.objects.count()
    client.force_login(admin_user)
    token = client.csrf_token(reverse("admin:index"))
    response = client.post(reverse(url_name, args=[row.pk]), {"post": "yes", "csrfmiddlewaretoken": token})
    assert response.status_code == 403 and b"CSRF" not in response.content, what
    assert model.objects.count() == count


@pytest.mark.parametrize("url_name", ["admin:calls_note_change", "admin:analysis_analysisstep_change",
                                      "admin:analysis_triagescore_change"])
def test_admin_cannot_edit_notes_steps_or_scores(client, admin_user, claimed_case, url_name):
    model = {"admin:calls_note_change": Note, "admin:analysis_analysisstep_change": AnalysisStep,
             "admin:analysis_triagescore_change": TriageScore}[url_name]
    row = model.objects.first()
    client.force_login(admin_user)
    token = client.csrf_token(reverse("admin:index"))
    response = client.post(reverse(url_name, args=[row.pk]), {"text": "rewritten", "state": "done",
                                                              "base_score": 0, "band": "low",
                                                              "csrfmiddlewaretoken": token})
    assert response.status_code == 403 and b"CSRF" not in response.content
    fresh = model.objects.get(pk=row.pk)
    assert [getattr(fresh, f.attname) for f in model._meta.fields] == [getattr(row, f.attname) for f in model._meta.fields]


@pytest.mark.parametrize("url_name", ["admin:calls_case_add", "admin:calls_note_add", "admin:analysis_triagescore_add"])
def test_admin_cannot_add_history_rows(client, admin_user, url_name):
    client.force_login(admin_user)
    assert client.get(reverse(url_name)).status_code == 403


def test_history_rows_refuse_updates_and_deletes_from_code(claimed_case):
    note = Note.objects.get()
    note.text = "rewritten"
    with pytest.raises(ValidationError, match="append-only"):
        note.save()
    for model in (Note, CaseEvent, TriageScore):
        with pytest.raises(ValidationError, match="append-only"):
            model.objects.all().update(created_at=None)
        with pytest.raises(ValidationError, match="append-only"):
            model.objects.all().delete()
        with pytest.raises(ValidationError, match="append-only"):
            model.objects.first().delete()


def test_audio_cannot_be_attached_to_a_closed_case(claimed_case, operator, upload, media_root, client):
    client.force_login(operator)
    stale = client.form_on(claimed_case.get_absolute_url(), reverse("calls:recording_add", args=[claimed_case.pk]))
    services.case_close(case=claimed_case, user=operator, outcome=Outcome.RESOLVED, reason="Ambulance sent")
    files_before = sorted(p for p in media_root.rglob("*") if p.is_file())
    events_before = claimed_case.events.count()
    with pytest.raises(services.CaseActionError, match=f"Case #{claimed_case.pk} is closed"):
        services.recording_attach(case=claimed_case, upload=upload("wav"), uploaded_by=operator)
    response = client.post_form(stale, {"audio": upload("wav")}, follow=True)
    assert f"Case #{claimed_case.pk} is closed: no more audio can be attached to it." in response.content.decode()
    api = client.post(reverse("api:case_recordings", args=[claimed_case.pk]), {"audio": upload("wav")},
                      HTTP_X_CSRFTOKEN=stale.token)
    assert api.status_code == 409 and "is closed" in api.json()["detail"]
    assert claimed_case.recordings.count() == 1 and claimed_case.events.count() == events_before
    assert sorted(p for p in media_root.rglob("*") if p.is_file()) == files_before


def test_a_case_closed_while_its_audio_was_decoded_keeps_nothing(claimed_case, operator, upload, media_root,
                                                                monkeypatch):
    from calls import audio_intake

    files_before = sorted(p for p in media_root.rglob("*") if p.is_file())
    prepare = audio_intake.recording_prepare

    def close_meanwhile(**kwargs):
        recording = prepare(**kwargs)
        Case.objects.filter(pk=claimed_case.pk).update(status=CaseStatus.CLOSED)  # another request
        return recording

    monkeypatch.setattr(services, "recording_prepare", close_meanwhile)
    with pytest.raises(services.CaseActionError, match="is closed"):
        services.recording_attach(case=claimed_case, upload=upload("wav"), uploaded_by=operator)
    assert claimed_case.recordings.count() == 1
    assert sorted(p for p in media_root.rglob("*") if p.is_file()) == files_before


def test_a_priority_override_is_one_transaction_with_its_event_score_and_broadcast(
    claimed_case, supervisor, monkeypatch, django_capture_on_commit_callbacks
):
    scores = TriageScore.objects.filter(case=claimed_case).count()

    def failing_rescore(**kwargs):
        raise RuntimeError("scoring broke")

    with monkeypatch.context() as patch:
        patch.setattr(analysis_services, "case_rescore", failing_rescore)
        with pytest.raises(RuntimeError):
            analysis_services.case_override_priority(case=claimed_case, supervisor=supervisor, score=5, reason="x")
    claimed_case.refresh_from_db()
    assert claimed_case.priority_override is None
    assert not claimed_case.events.filter(kind=EventKind.PRIORITY_OVERRIDDEN).exists()
    assert TriageScore.objects.filter(case=claimed_case).count() == scores

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        analysis_services.case_override_priority(case=claimed_case, supervisor=supervisor, score=5, reason="Test line")
    assert len(callbacks) == 2  # the score's and the override's broadcasts, both after the commit
    claimed_case.refresh_from_db()
    assert claimed_case.priority_base == 5
    assert TriageScore.objects.filter(case=claimed_case).count() == scores + 1


def test_every_history_model_in_the_admin_is_read_only(rf, admin_user):
    """Generated from the admin's registry: a new model of these apps registered writable fails here."""
    from django.contrib import admin as django_admin

    request = rf.get("/admin/")
    request.user = admin_user
    checked = []
    for model, model_admin in django_admin.site._registry.items():
        if model._meta.app_label not in {"calls", "analysis", "audits", "learning"}:
            continue
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
        checked.append(model._meta.label)
    assert {"learning.TrainingRun", "learning.ClipChange", "analysis.SupersededPrediction",
            "analysis.EmotionModelActivation", "audits.Audit"} <= set(checked)
