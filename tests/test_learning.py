"""The emotion model registry: shipped versions registered on migrate, promote and roll back (pages,
services, commands), the guard rails, append-only history, and the pipeline following the switch."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from analysis import dispatch, selectors, services
from analysis.exceptions import ModelVersionRefused
from analysis.models import (
    ActivationAction,
    AnalysisStep,
    EmotionModelActivation,
    EmotionModelVersion,
    StepName,
)
from calls.exceptions import NotAllowed

pytestmark = pytest.mark.django_db

SHIPPED = Path(__file__).resolve().parents[1] / "ml_models"


def v(name: str) -> EmotionModelVersion:
    return EmotionModelVersion.objects.get(name=name)


def variant(tmp_path: Path, name: str, **changes) -> EmotionModelVersion:
    """A copy of the shipped Whisper-encoder version under another name, its metadata changed."""
    folder = tmp_path / name
    shutil.copytree(SHIPPED / "emotion-whisper-v1", folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta.update(version=name, **changes)
    (folder / "metadata.json").write_text(json.dumps(meta))
    return services.emotion_model_register(folder=folder)


def test_the_shipped_versions_are_registered_with_their_figures():
    assert set(EmotionModelVersion.objects.values_list("name", flat=True)) >= {
        "emotion-whisper-v1", "emotion-ravdess-v2", "emotion-whisper-base-v3", "emotion-whisper-base-v4",
        "emotion-whisper-base-v5"}
    assert selectors.emotion_model_version_active() == v("emotion-whisper-v1")  # EMOTION_MODEL_DIR, no promotion yet
    figures = selectors.emotion_model_figures(v("emotion-whisper-v1"))
    assert figures.protocol == "6 folds by speaker" and figures.ua == pytest.approx(0.7292)
    assert figures.cross_corpus == "emodb" and figures.cross_corpus_ua == pytest.approx(0.4355)
    assert set(figures.recall) == set(v("emotion-whisper-v1").labels)
    cnn = selectors.emotion_model_figures(v("emotion-ravdess-v2"))
    assert cnn.protocol == "test speakers 21, 22, 23, 24" and cnn.ua == pytest.approx(0.6719)
    assert services.emotion_models_register_shipped()[0].pk in EmotionModelVersion.objects.values_list("pk", flat=True)
    assert EmotionModelVersion.objects.count() == 5  # registering again adds nothing


def test_promote_and_roll_back_switch_the_model_the_pipeline_asks_for(admin_user):
    whisper, cnn = v("emotion-whisper-v1"), v("emotion-ravdess-v2")
    services.emotion_model_promote(version=cnn, admin=admin_user, reason="compare on live traffic")
    choice = selectors.emotion_model_active()
    assert choice.version_id == cnn.pk and choice.path.name == "emotion-ravdess-v2"
    assert selectors.emotion_model_previous(cnn) == whisper
    back = services.emotion_model_rollback(admin=admin_user, reason="CNN weaker on EmoDB")
    assert back.version == whisper and back.action == ActivationAction.ROLLBACK
    assert selectors.emotion_model_active().version_id == whisper.pk
    history = list(EmotionModelActivation.objects.values_list("version__name", "action", "reason", "activated_by"))
    assert history == [("emotion-whisper-v1", "rollback", "CNN weaker on EmoDB", admin_user.pk),
                       ("emotion-ravdess-v2", "promote", "compare on live traffic", admin_user.pk)]


def test_what_may_not_be_promoted_is_refused_with_the_reason(admin_user, supervisor, tmp_path):
    with pytest.raises(ModelVersionRefused, match="is the active version already"):
        services.emotion_model_promote(version=v("emotion-whisper-v1"), admin=admin_user, reason="again")
    with pytest.raises(NotAllowed):
        services.emotion_model_promote(version=v("emotion-ravdess-v2"), admin=supervisor, reason="mine")
    with pytest.raises(ModelVersionRefused, match="Say why"):
        services.emotion_model_promote(version=v("emotion-ravdess-v2"), admin=admin_user, reason="  ")
    with pytest.raises(ModelVersionRefused, match="no earlier active version"):
        services.emotion_model_rollback(admin=admin_user, reason="nothing before")
    odd = variant(tmp_path, "emotion-odd-labels", labels=["neutral", "bored", "elated"])
    with pytest.raises(ModelVersionRefused, match="does not cover bored, elated"):
        services.emotion_model_promote(version=odd, admin=admin_user, reason="try")
    unmeasured = variant(tmp_path, "emotion-unmeasured", metrics={})
    with pytest.raises(ModelVersionRefused, match="no figures on held-out speakers"):
        services.emotion_model_promote(version=unmeasured, admin=admin_user, reason="try")
    assert not EmotionModelActivation.objects.exists()


def test_versions_are_immutable_and_the_history_append_only(admin_user, tmp_path):
    copy = tmp_path / "same-name"
    shutil.copytree(SHIPPED / "emotion-whisper-v1", copy)
    head = json.loads((copy / "head.json").read_text())
    head["intercept"] = [0.0 for _ in head["intercept"]]
    (copy / "head.json").write_text(json.dumps(head))
    meta = json.loads((copy / "metadata.json").read_text())
    meta["head_sha256"] = __import__("hashlib").sha256((copy / "head.json").read_bytes()).hexdigest()
    (copy / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelVersionRefused, match="versions are immutable"):
        services.emotion_model_register(folder=copy)
    tampered = tmp_path / "tampered"
    shutil.copytree(SHIPPED / "emotion-whisper-v1", tampered)
    (tampered / "head.json").write_text("{}")
    with pytest.raises(ModelVersionRefused, match="does not match the sha256"):
        services.emotion_model_register(folder=tampered)
    activation = services.emotion_model_promote(version=v("emotion-ravdess-v2"), admin=admin_user, reason="r")
    activation.reason = "rewritten"
    with pytest.raises(ValidationError):
        activation.save()
    with pytest.raises(ValidationError):
        v("emotion-ravdess-v2").delete()
    with pytest.raises(ValidationError):
        EmotionModelActivation.objects.update(reason="x")


def test_admins_promote_compare_and_roll_back_on_the_pages(client, admin_user):
    client.force_login(admin_user)
    cnn, whisper = v("emotion-ravdess-v2"), v("emotion-whisper-v1")
    listing = client.get("/learning/models/").content.decode()
    assert "emotion-whisper-v1</a> <span class=\"badge text-bg-success\">active" in listing
    assert "Nothing to roll back to" in listing
    detail = client.get(f"/learning/models/{cnn.pk}/")
    assert b"test speakers 21, 22, 23, 24" in detail.content and b"Recall per label" in detail.content
    assert b"Triage trust in its voice: <strong>0.39</strong>" in detail.content and b'id="no-trust"' not in detail.content
    picture = client.get(f"/learning/models/{cnn.pk}/confusion.png")
    assert picture["Content-Type"] == "image/png" and b"".join(picture.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    compared = client.get(f"/learning/models/compare/?a={whisper.pk}&b={cnn.pk}").content.decode()
    assert "measured on different held-out" in compared and "0.729" in compared and "0.672" in compared
    assert client.get("/learning/models/compare/?a=x").status_code == 302  # bad input: back to the list, with a message

    response = client.submit(f"/learning/models/{cnn.pk}/", f"/learning/models/{cnn.pk}/promote/", {"reason": ""})
    assert response.status_code == 302 and not EmotionModelActivation.objects.exists()
    response = client.submit(f"/learning/models/{cnn.pk}/", f"/learning/models/{cnn.pk}/promote/",
                             {"reason": "shadow week"})
    assert b"Promote it anyway" in response.content and not EmotionModelActivation.objects.exists()  # confirm first
    response = client.submit(f"/learning/models/{cnn.pk}/", f"/learning/models/{cnn.pk}/promote/",
                             {"reason": "shadow week", "confirmed": "yes"}, follow=True)
    assert b"emotion-ravdess-v2 is now the active emotion model" in response.content
    assert selectors.emotion_model_version_active() == cnn
    response = client.submit("/learning/models/", "/learning/models/rollback/", {"reason": "weaker"}, follow=True)
    assert b"Rolled back: emotion-whisper-v1 is the active emotion model again." in response.content
    assert b"shadow week" in response.content and b"weaker" in response.content


def test_the_commands_do_the_same_for_scripts(admin_user, tmp_path):
    out = io.StringIO()
    call_command("model_list", "--json", stdout=out)
    rows = {r["name"]: r for r in json.loads(out.getvalue())}
    assert rows["emotion-whisper-v1"]["active"] and rows["emotion-ravdess-v2"]["blockers"] == []
    out = io.StringIO()
    call_command("model_promote", "emotion-ravdess-v2", "--user", admin_user.username, "--reason", "script",
                 "--json", stdout=out)
    assert json.loads(out.getvalue())["active"] is True
    call_command("model_rollback", "--user", admin_user.username, "--reason", "script", stdout=io.StringIO())
    assert selectors.emotion_model_version_active().name == "emotion-whisper-v1"
    with pytest.raises(CommandError, match="No registered version 'nope'"):
        call_command("model_promote", "nope", "--user", admin_user.username, "--reason", "x")
    with pytest.raises(CommandError, match="Cannot register"):
        call_command("model_register", str(tmp_path / "missing"))


@pytest.mark.django_db(transaction=True)
def test_the_next_call_is_analysed_by_the_promoted_version(settings, case_factory, upload, admin_user):
    settings.ANALYSIS_BACKEND = "inprocess"
    first = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=120)
    services.emotion_model_promote(version=v("emotion-ravdess-v2"), admin=admin_user, reason="switch")
    second = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=180)
    steps = {s.recording.case_id: s for s in AnalysisStep.objects.filter(name=StepName.EMOTION).select_related("recording")}
    assert steps[first.pk].emotion_model.name == "emotion-whisper-v1"
    assert steps[second.pk].emotion_model.name == "emotion-ravdess-v2"
    assert steps[second.pk].state == "done"


@pytest.mark.django_db(transaction=True)
def test_a_challenger_scores_in_the_shadow_and_never_moves_a_priority(settings, case_factory, upload, admin_user,
                                                                      client):
    from analysis.models import ShadowPrediction, TriageScore

    settings.ANALYSIS_BACKEND = "inprocess"
    cnn, whisper = v("emotion-ravdess-v2"), v("emotion-whisper-v1")
    with pytest.raises(ModelVersionRefused, match="a challenger must be another one"):
        services.emotion_model_challenger_set(version=whisper, admin=admin_user, reason="itself")
    services.emotion_model_challenger_set(version=cnn, admin=admin_user, reason="a week in the shadow")
    assert selectors.emotion_model_challenger_current() == cnn
    case = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=180)
    shadow = ShadowPrediction.objects.get()
    assert shadow.version == cnn and shadow.recording.case_id == case.pk
    active_step = AnalysisStep.objects.get(recording__case=case, name=StepName.EMOTION)
    assert active_step.emotion_model == whisper and active_step.result != shadow.result
    # The priority is the active version's alone: scoring again without the shadow gives the same.
    case.refresh_from_db()
    final = TriageScore.objects.filter(case=case).first()
    assert not any("emotion-ravdess-v2" in r for r in final.reasons)
    assert services.case_rescore(case_id=case.pk).base_score == pytest.approx(case.priority_base)
    comparison = selectors.shadow_comparison(whisper, cnn)
    assert comparison.calls == 1 and comparison.same_top_label in (0.0, 1.0)
    assert 0.0 <= comparison.mean_probability_difference <= 1.0
    client.force_login(admin_user)
    page = client.get(f"/learning/models/compare/?a={whisper.pk}&b={cnn.pk}").content.decode()
    assert "1 call scored by both emotion-whisper-v1 (active) and" in page
    response = client.submit(f"/learning/models/{cnn.pk}/", f"/learning/models/{cnn.pk}/challenger/",
                             {"reason": "enough", "action": "stop"}, follow=True)
    assert b"No challenger now." in response.content and selectors.emotion_model_challenger_current() is None


def test_the_compare_page_shows_what_supervisors_said_of_each_version(client, admin_user, case_factory, supervisor):
    from audits.models import AuditItem
    from audits.services import audit_record

    cnn, whisper = v("emotion-ravdess-v2"), v("emotion-whisper-v1")
    # (version, the system's category, suspected prank, the supervisor's category, genuine)
    answers = [(whisper, "calm", False, "calm", True), (whisper, "prank", True, "calm", True),
               (whisper, "prank", True, "prank", False), (cnn, "stressful", False, "stressful", True)]
    for version, system, suspected, truth, genuine in answers:
        item = AuditItem.objects.create(case=case_factory(), reasons=["random"], model_version=version.name,
                                        system_category=system, system_suspected_prank=suspected)
        audit_record(item=item, supervisor=supervisor, category=truth, genuine=genuine, incident_type="other")
    client.force_login(admin_user)
    page = client.get(f"/learning/models/compare/?a={whisper.pk}&b={cnn.pk}").content.decode()
    table = page[page.index('id="compare-audits"'):page.index("Recall per label")]
    whisper_row = table[table.index("emotion-whisper-v1"):table.index("emotion-ravdess-v2")]
    assert "<td>3</td>" in whisper_row and "2 of 3" in whisper_row  # categories agreed on 2 of 3
    assert "1 of 2" in whisper_row  # 1 of 2 genuine calls suspected
    assert "<td>1</td>" in table[table.index("emotion-ravdess-v2"):] and "1 of 1" in table[table.index("emotion-ravdess-v2"):]


@pytest.mark.django_db(transaction=True)
def test_promoting_can_reanalyse_the_open_cases_keeping_the_old_results(settings, case_factory, upload, admin_user,
                                                                        operator, client):
    from analysis.models import SupersededPrediction
    from calls import services as calls

    settings.ANALYSIS_BACKEND = "inprocess"
    still_open = case_factory(audio=upload("wav"))
    closed = case_factory(audio=upload("wav"), caller_number="+91 90000 00001")
    dispatch.wait_for_inprocess(timeout=180)
    calls.case_claim(case=closed, operator=operator)
    calls.case_close(case=closed, user=operator, outcome="resolved", reason="done")
    before = AnalysisStep.objects.get(recording__case=still_open, name=StepName.EMOTION).result
    cnn = v("emotion-ravdess-v2")
    client.force_login(admin_user)
    response = client.submit(f"/learning/models/{cnn.pk}/", f"/learning/models/{cnn.pk}/promote/",
                             {"reason": "better on our calls", "reanalyse": "on", "confirmed": "yes"}, follow=True)
    assert b"Re-analysing the voices of 1 open case with it." in response.content
    dispatch.wait_for_inprocess(timeout=180)
    steps = {s.recording.case_id: s for s in AnalysisStep.objects.filter(name=StepName.EMOTION).select_related("recording")}
    assert steps[still_open.pk].emotion_model == cnn and steps[still_open.pk].state == "done"
    assert steps[closed.pk].emotion_model == v("emotion-whisper-v1")  # closed cases keep what they were judged by
    kept = SupersededPrediction.objects.get()
    assert kept.recording.case_id == still_open.pk and kept.result == before and kept.superseded_by == admin_user
    still_open.refresh_from_db()
    assert still_open.analysis_state == "done"
