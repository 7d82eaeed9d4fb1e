"""Supervisors audit the machine's labels: sampling, answers (append-only, blind second review),
the dashboard's figures on answers we know, the export read back by the dataset reader."""

from __future__ import annotations

import io
import json
import math
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from analysis.models import AnalysisStep, StepName, StepState
from audits import services
from audits.metrics import DashboardFilter, dashboard_figures
from audits.models import Audit, AuditItem, AuditReason
from audits.sampling import SamplingConfig, uniform_draw
from calls import services as case_services
from calls.exceptions import CaseActionError, NotAllowed
from calls.models import Case, Outcome
from core.emotion.datasets import read_manifest
from core.emotion.prediction import EmotionPrediction

pytestmark = pytest.mark.django_db
NONE_RANDOM = SamplingConfig(random_share=0.0, second_review_share=0.0, uncertain_margin=0.2, salt="test")


def _closed(case_factory, operator, *, outcome=Outcome.RESOLVED, **fields):
    case = case_factory()
    case_services.case_claim(case=case, operator=operator)
    case_services.case_close(case=case, user=operator, outcome=outcome, reason="done")
    if fields:
        Case.objects.filter(pk=case.pk).update(**fields)  # what the analysis would have set
    case.refresh_from_db()
    return case


def _emotion(case, upload, probabilities, **extra):
    """A voice analysis result on the case's recording (attached before it was closed)."""
    recording = case.recordings.first()
    prediction = EmotionPrediction(label=max(probabilities, key=probabilities.get), probabilities=probabilities,
                                   model_version="model-x", seconds=0.01, **extra)
    AnalysisStep.objects.update_or_create(recording=recording, name=StepName.EMOTION,
                                          defaults={"state": StepState.DONE, "result": prediction.to_dict()})


# -- sampling ------------------------------------------------------------------------------------


def test_each_rule_gives_its_reason(case_factory, operator, upload):
    prank = _closed(case_factory, operator, suspected_prank=True)
    demoted = _closed(case_factory, operator, priority_base=30.0)
    disagrees = _closed(case_factory, operator, outcome=Outcome.PRANK)
    plain = _closed(case_factory, operator, priority_base=70.0)
    unsure = case_factory(audio=upload("wav"))
    _emotion(unsure, upload, {"fearful": 0.45, "sad": 0.40, "neutral": 0.15})
    case_services.case_claim(case=unsure, operator=operator)
    case_services.case_close(case=unsure, user=operator, outcome=Outcome.HEALTH, reason="sent")
    Case.objects.filter(pk=unsure.pk).update(priority_base=70.0)
    got = {case.pk: services.audit_item_create(case=case, config=NONE_RANDOM) for case in
           (prank, demoted, disagrees, plain, Case.objects.get(pk=unsure.pk))}
    assert AuditReason.SUSPECTED_PRANK in got[prank.pk].reasons
    assert AuditReason.OUTCOME_DISAGREES in got[prank.pk].reasons  # genuine outcome, prank suspected
    assert got[demoted.pk].reasons == [AuditReason.DEMOTED]
    assert got[disagrees.pk].reasons == [AuditReason.OUTCOME_DISAGREES]
    assert got[plain.pk] is None
    assert got[unsure.pk].reasons == [AuditReason.UNCERTAIN] and got[unsure.pk].uncertainty == pytest.approx(0.95)
    assert got[unsure.pk].model_version == "model-x" and got[unsure.pk].system_category == "stressful"


def test_the_random_share_holds_on_a_seeded_run():
    n, share = 20_000, 0.02
    picked = sum(uniform_draw(i, "seeded-run", "random") < share for i in range(1, n + 1))
    sigma = math.sqrt(n * share * (1 - share))
    assert abs(picked - n * share) < 4 * sigma  # 400 ± 79
    second = [uniform_draw(i, "seeded-run", "second") < 0.5 for i in range(1, 2001)]
    assert 900 < sum(second) < 1100
    assert uniform_draw(7, "seeded-run", "random") == uniform_draw(7, "seeded-run", "random")


def test_closing_a_case_puts_it_in_the_queue_after_the_commit(case_factory, operator, settings,
                                                            django_capture_on_commit_callbacks):
    settings.AUDIT_RANDOM_SHARE = 1.0
    case = case_factory()
    case_services.case_claim(case=case, operator=operator)
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_close(case=case, user=operator, outcome=Outcome.RESOLVED, reason="done")
    assert AuditItem.objects.get(case=case).reasons == [AuditReason.RANDOM]
    assert services.audit_item_create(case=case) is None  # once per case


def test_past_calls_are_sampled_by_the_command(case_factory, operator, settings):
    settings.AUDIT_RANDOM_SHARE = 1.0
    cases = [_closed(case_factory, operator) for _ in range(3)]
    out = io.StringIO()
    call_command("audit_sample", stdout=out)
    assert "3 call(s) picked" in out.getvalue()
    assert set(AuditItem.objects.values_list("case_id", flat=True)) == {c.pk for c in cases}


# -- answers ----------------------------------------------------------------------------------------


@pytest.fixture
def item(case_factory, operator):
    case = _closed(case_factory, operator, suspected_prank=True)
    return services.audit_item_create(case=case, config=NONE_RANDOM)


def test_an_answer_a_correction_and_what_is_refused(item, supervisor, operator, make_user):
    first = services.audit_record(item=item, supervisor=supervisor, category="calm", genuine=True,
                                  incident_type="medical")
    with pytest.raises(CaseActionError, match="correct your answer"):
        services.audit_record(item=item, supervisor=supervisor, category="calm", genuine=True, incident_type="other")
    with pytest.raises(CaseActionError, match="audited by sunita already"):
        services.audit_record(item=item, supervisor=make_user("supervisor"), category="calm", genuine=True,
                              incident_type="other")
    with pytest.raises(NotAllowed):
        services.audit_record(item=item, supervisor=operator, category="calm", genuine=True, incident_type="other")
    with pytest.raises(CaseActionError, match="cannot also be genuine"):
        services.audit_record(item=item, supervisor=supervisor, category="prank", genuine=True,
                              incident_type="other", supersedes=first)
    fixed = services.audit_record(item=item, supervisor=supervisor, category="stressful", genuine=True,
                                  incident_type="medical", supersedes=first)
    assert fixed.supersedes == first and list(services.active_audits(item)) == [fixed]
    first.refresh_from_db()
    assert first.category == "calm"  # the old answer stays as it was


def test_a_blind_second_review_by_another_supervisor(case_factory, operator, supervisor, make_user, client):
    case = _closed(case_factory, operator, suspected_prank=True)
    item = services.audit_item_create(case=case, config=SamplingConfig(0.0, 1.0, 0.2, "test"))
    assert item.second_review
    services.audit_record(item=item, supervisor=supervisor, category="prank", genuine=False, incident_type="other",
                          comment="laughing in the background")
    second = make_user("supervisor", "sam")
    client.force_login(second)
    page = client.get(item.get_absolute_url()).content.decode()
    assert "blind second review" in page and "laughing in the background" not in page and "sunita" not in page
    response = client.submit(item.get_absolute_url(), data={"category": "calm", "genuine": "yes",
                                                             "incident_type": "medical"})
    assert response.status_code == 302
    answer = Audit.objects.get(supervisor=second)
    assert answer.blind and answer.category == "calm"
    assert "laughing in the background" in client.get(item.get_absolute_url()).content.decode()
    with pytest.raises(CaseActionError, match="both of its reviews"):
        services.audit_record(item=item, supervisor=make_user("supervisor"), category="calm", genuine=True,
                              incident_type="other")


def test_audits_are_append_only(item, supervisor, admin_user, client):
    audit = services.audit_record(item=item, supervisor=supervisor, category="calm", genuine=True,
                                  incident_type="other")
    audit.comment = "rewritten"
    with pytest.raises(ValidationError, match="append-only"):
        audit.save()
    for model in (Audit, AuditItem):
        with pytest.raises(ValidationError, match="append-only"):
            model.objects.all().update(created_at=timezone.now())
        with pytest.raises(ValidationError, match="append-only"):
            model.objects.all().delete()
    client.force_login(admin_user)
    token = client.csrf_token(reverse("admin:index"))
    for url in (reverse("admin:audits_audit_change", args=[audit.pk]),
                reverse("admin:audits_audit_delete", args=[audit.pk]),
                reverse("admin:audits_audititem_delete", args=[item.pk])):
        response = client.post(url, {"category": "prank", "post": "yes", "csrfmiddlewaretoken": token})
        assert response.status_code == 403 and b"CSRF" not in response.content, url
    audit.refresh_from_db()
    assert audit.comment == "" and Audit.objects.count() == 1


# -- the dashboard on answers we know ---------------------------------------------------------------


def _item(case_factory, operator, *, system_category, suspected, reasons=("random",), transcript="",
          model_version="m1"):
    case = _closed(case_factory, operator)
    return AuditItem.objects.create(case=case, reasons=list(reasons), system_category=system_category,
                                    system_suspected_prank=suspected, system_incident_type="medical",
                                    transcript=transcript, model_version=model_version)


def test_every_dashboard_figure_on_a_constructed_set(case_factory, operator, supervisor, make_user):
    second = make_user("supervisor", "sam")
    # Ten audited calls: (system category, system suspected, supervisor category, genuine).
    rows = [("calm", False, "calm", True), ("calm", False, "calm", True), ("stressful", False, "stressful", True),
            ("stressful", False, "calm", True), ("prank", True, "calm", True), ("prank", True, "prank", False),
            ("prank", True, "prank", False), ("angry", False, "angry", True), ("angry", False, "stressful", True),
            ("calm", False, "prank", False)]
    items = []
    for i, (system, suspected, truth, genuine) in enumerate(rows):
        reasons = ("random",) if i < 4 else ("suspected_prank",) if suspected else ("demoted",)
        it = _item(case_factory, operator, system_category=system, suspected=suspected, reasons=reasons,
                   transcript="help my father is not breathing" if i == 0 else "")
        services.audit_record(item=it, supervisor=supervisor, category=truth, genuine=genuine, incident_type="medical",
                              corrected_transcript="help my father is not breathing please" if i == 0 else "")
        items.append(it)
    # Two blind pairs: one agreeing, one not.
    pair_a = _item(case_factory, operator, system_category="calm", suspected=False)
    pair_b = _item(case_factory, operator, system_category="calm", suspected=False)
    for it, (first, other) in ((pair_a, ("calm", "calm")), (pair_b, ("calm", "angry"))):
        Audit.objects.create(item=it, supervisor=supervisor, category=first, genuine=True, incident_type="medical")
        Audit.objects.create(item=it, supervisor=second, category=other, genuine=True, incident_type="medical",
                             blind=True)
    f = dashboard_figures(DashboardFilter())
    fp = f["all"]["prank_false_positive_rate"]
    # genuine per supervisors: rows 0-4, 7, 8 and the two pairs = 9; the system suspected row 4 only.
    assert (fp["hits"], fp["total"]) == (1, 9) and fp["value"] == pytest.approx(1 / 9)
    assert fp["low"] == pytest.approx(0.0199, abs=1e-3) and fp["high"] == pytest.approx(0.4350, abs=1e-3)
    assert f["all"]["prank_recall"]["hits"] == 2 and f["all"]["prank_recall"]["total"] == 3
    agree = f["all"]["category_agreement"]
    assert (agree["hits"], agree["total"]) == (8, 12)
    per = {c["label"]: c for c in f["all"]["per_category"]}
    assert per["calm"]["recall"] == pytest.approx(4 / 6) and per["calm"]["precision"] == pytest.approx(4 / 5)
    assert per["prank"]["precision"] == pytest.approx(2 / 3) and per["prank"]["recall"] == pytest.approx(2 / 3)
    assert per["stressful"]["precision"] == pytest.approx(1 / 2) and per["stressful"]["recall"] == pytest.approx(1 / 2)
    assert f["per_reason"]["random"]["audited"] == 6 and f["per_reason"]["random"]["prank_false_positive_rate"]["hits"] == 0
    assert f["blind_pairs"]["pairs"] == 2 and f["blind_pairs"]["kappa_category"] == pytest.approx(0.0)
    assert f["transcription"]["corrected"] == 1 and f["transcription"]["word_error_rate"] == pytest.approx(1 / 7)  # one word missed of seven
    assert f["coverage"]["audited"] == 12 and f["coverage"]["closed_calls"] == 12
    assert f["weekly"][0]["audited"] == 12
    assert dashboard_figures(DashboardFilter(model_version="other"))["all"]["audited"] == 0
    later = timezone.localdate() + timedelta(days=1)
    assert dashboard_figures(DashboardFilter(since=later))["all"]["audited"] == 0
    out = io.StringIO()
    call_command("audit_report", "--json", "--model-version", "m1", stdout=out)
    report = json.loads(out.getvalue())
    assert report["all"]["prank_false_positive_rate"]["hits"] == 1 and report["filter"]["model_version"] == "m1"


def test_the_export_is_read_back_by_the_dataset_reader(case_factory, operator, supervisor, upload, tmp_path):
    case = case_factory(audio=upload("wav"), caller_number="+91 98111 44444")
    _emotion(case, upload, {"fearful": 0.9, "neutral": 0.1},
             gender={"label": "female", "confidence": 0.9, "median_f0_hz": None})
    case_services.case_claim(case=case, operator=operator)
    case_services.case_close(case=case, user=operator, outcome=Outcome.HEALTH, reason="sent")
    it = AuditItem.objects.create(case=case, recording=case.recordings.get(), reasons=["random"])
    services.audit_record(item=it, supervisor=supervisor, category="stressful", genuine=True, incident_type="medical")
    out = tmp_path / "export.zip"
    call_command("audit_export", str(out), stdout=io.StringIO())
    with zipfile.ZipFile(out) as archive:
        archive.extractall(tmp_path / "dataset")
    [clip] = read_manifest(tmp_path / "dataset" / "manifest.csv")
    assert clip.label == "stressful" and clip.gender == "female" and clip.speaker.startswith("caller-")
    assert "98111" not in clip.speaker and clip.path.stat().st_size > 1000


# -- pages ------------------------------------------------------------------------------------------


def test_the_audit_page_shows_what_the_system_said_and_saves_an_answer(item, supervisor, client):
    client.force_login(supervisor)
    queue = client.get(reverse("audits:queue")).content.decode()
    assert f"#{item.case_id}" in queue and "suspected_prank" in queue
    page = client.get(item.get_absolute_url()).content.decode()
    assert "What the system said" in page and "Suspected prank" in page and "The operator's outcome" in page
    response = client.submit(item.get_absolute_url(), data={"category": "calm", "genuine": "yes",
                                                            "incident_type": "medical", "comment": "a real call"})
    assert response.status_code == 302
    assert Audit.objects.get().comment == "a real call"
    bad = client.submit(item.get_absolute_url(), data={"category": "nonsense", "genuine": "yes",
                                                       "incident_type": "medical"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert Audit.objects.count() == 1


def test_dashboard_operations_and_their_charts_render(item, supervisor, client):
    services.audit_record(item=item, supervisor=supervisor, category="calm", genuine=True, incident_type="medical")
    client.force_login(supervisor)
    page = client.get(reverse("audits:dashboard")).content.decode()
    assert "Genuine calls the system suspected as pranks" in page and "1 of 1" in page
    assert client.get(reverse("audits:dashboard") + "?since=2030-01-02&until=2030-01-01").status_code == 200
    for name in ("confusion", "weekly", "reasons"):
        chart = client.get(reverse("audits:dashboard_chart", args=[name]))
        assert chart["Content-Type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    assert client.get(reverse("audits:dashboard_chart", args=["nope"])).status_code == 404
    assert "The queue now and this shift" in client.get(reverse("audits:operations")).content.decode()
    for name in ("waiting", "hourly", "operators"):
        assert client.get(reverse("audits:operations_chart", args=[name])).content[:4] == b"\x89PNG"
    export = client.get(reverse("audits:export"))
    assert export["Content-Type"] == "application/zip"


def test_the_export_never_shows_a_second_reviewer_the_first_answer(case_factory, operator, supervisor, upload,
                                                                   make_user, client):
    """Attack: the blind second reviewer downloaded /audits/export.zip and read the first answer in
    manifest.csv while the item waited for them."""
    case = case_factory(audio=upload("wav"))
    _emotion(case, upload, {"fearful": 0.9, "neutral": 0.1})
    case_services.case_claim(case=case, operator=operator)
    case_services.case_close(case=case, user=operator, outcome=Outcome.HEALTH, reason="sent")
    item = AuditItem.objects.create(case=case, recording=case.recordings.get(), reasons=["random"], second_review=True)
    services.audit_record(item=item, supervisor=supervisor, category="stressful", genuine=True, incident_type="medical")
    second = make_user("supervisor", "sam")
    client.force_login(second)

    def manifest() -> str:
        response = client.get(reverse("audits:export"))
        with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content) if response.streaming else
                                        response.content)) as archive:
            return archive.read("manifest.csv").decode()

    assert f"case-{case.pk}.wav" not in manifest() and "stressful" not in manifest()
    services.audit_record(item=item, supervisor=second, category="stressful", genuine=True, incident_type="medical")
    assert f"case-{case.pk}.wav" in manifest()  # both answers in, and they agree
