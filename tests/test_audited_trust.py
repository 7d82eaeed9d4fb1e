"""Trust learned from audits: once a voice model version has enough audited calls, the supervisors'
labels, not the corpora, set how far the triage trusts its voice; the version page and the
dashboard say which figure is in force and why."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analysis.models import AuditedReliability
from analysis.selectors import emotion_model_reliability
from audits import services
from audits.models import AuditItem
from calls import services as case_services
from calls.models import Outcome
from core.quality import auc_interval
from core.triage.acoustic import MIN_AUDITED, acoustic_trust, trust_explained
from tests.test_audits import _emotion

pytestmark = pytest.mark.django_db
CORPORA = {"distress_auc_heldout": 0.95, "distress_auc_cross_corpus": 0.9}  # what the corpora claimed


def test_the_auc_interval_on_known_scores():
    perfect = auc_interval([0.9, 0.8, 0.7, 0.2, 0.1, 0.3], [True, True, True, False, False, False])
    assert perfect.auc == 1.0 and perfect.high == 1.0 and 0.3 < perfect.low < 0.6  # 3 + 3 calls prove little
    coin = auc_interval([0.5] * 20, [True] * 10 + [False] * 10)
    assert coin.auc == 0.5 and coin.low < 0.5 < coin.high
    assert auc_interval([0.3, 0.4], [True, True]).auc is None  # one side only: no figure


def test_too_few_audited_calls_leave_the_corpora_in_force():
    few = {**CORPORA, "distress_auc_audited": 0.55, "distress_auc_audited_low": 0.4, "distress_auc_audited_high": 0.7,
           "audited_distressed": 5, "audited_calm": 5}
    assert acoustic_trust(few) == acoustic_trust(CORPORA) == 1.0
    assert "held-out and unseen-corpus" in trust_explained(few)[1]


def _audited_calls(case_factory, operator, supervisor, upload, *, agree: bool, n: int) -> None:
    """n closed calls of model-x: half distressed by the supervisor, half calm; the voice either
    agrees (fearful on the distressed ones) or says the opposite."""
    for i in range(n):
        distressed = i % 2 == 0
        case = case_factory(audio=upload("wav"), caller_number=f"+91 98222 {i:05d}")
        fearful = 0.9 if distressed == agree else 0.1
        _emotion(case, upload, {"fearful": fearful, "neutral": 1 - fearful})
        case_services.case_claim(case=case, operator=operator)
        case_services.case_close(case=case, user=operator, outcome=Outcome.RESOLVED, reason="done")
        item = AuditItem.objects.create(case=case, recording=case.recordings.get(), reasons=["random"],
                                        model_version="model-x")
        services.audit_record(item=item, supervisor=supervisor, category="stressful" if distressed else "calm",
                              genuine=True, incident_type="other")


def test_audits_that_disagree_with_the_voice_take_its_trust_away(
        case_factory, operator, supervisor, upload, client, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("analysis.selectors._corpus_reliability", lambda version: dict(CORPORA))
    assert acoustic_trust(emotion_model_reliability("model-x")) == 1.0  # the corpora alone
    with django_capture_on_commit_callbacks(execute=True):
        _audited_calls(case_factory, operator, supervisor, upload, agree=False, n=MIN_AUDITED + 2)
    latest = AuditedReliability.objects.filter(model_version="model-x").first()
    assert latest.distressed + latest.calm == MIN_AUDITED + 2 and latest.auc == 0.0
    assert AuditedReliability.objects.filter(model_version="model-x").count() == MIN_AUDITED + 2  # one row each
    trust, why = trust_explained(emotion_model_reliability("model-x"))
    assert trust == 0.0 and why.startswith(f"from {MIN_AUDITED + 2} audited calls: distress AUC 0.00")
    client.force_login(supervisor)
    dashboard = client.get(reverse("audits:dashboard")).content.decode()
    assert "model-x</strong>: 0.00" in dashboard and f"from {MIN_AUDITED + 2} audited calls" in dashboard


def test_audits_that_agree_earn_the_voice_its_trust(case_factory, operator, supervisor, upload,
                                                    django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr("analysis.selectors._corpus_reliability", lambda version: None)  # no corpus figures
    assert acoustic_trust(emotion_model_reliability("model-x")) == 0.0
    with django_capture_on_commit_callbacks(execute=True):
        _audited_calls(case_factory, operator, supervisor, upload, agree=True, n=MIN_AUDITED)
    reliability = emotion_model_reliability("model-x")
    assert reliability["distress_auc_audited"] == 1.0
    assert 0.0 < acoustic_trust(reliability) < 1.0  # the lower end of the interval counts
