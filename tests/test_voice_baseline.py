"""A voice version that adapts to its deployment (emotion-whisper-base-v5), in the portal: each
finished call's recording teaches the baseline of the version that read it (the active one, and a
challenger its own, so it is warm when promoted); the live worker's windows only read it; every
prediction records how many calls it was read against; the model page says how far it has come."""

from __future__ import annotations

import pytest

from analysis import dispatch, pipeline, services
from analysis.baselines import voice_baseline
from analysis.models import AnalysisStep, EmotionModelVersion, ShadowPrediction, StepName, VoiceBaseline

ADAPTS = "emotion-whisper-base-v5"


@pytest.mark.django_db(transaction=True)
def test_the_calls_teach_the_version_that_read_them_and_the_live_path_only_reads(settings, case_factory, upload,
                                                                                 admin_user, client, call_clip):
    settings.ANALYSIS_BACKEND = "inprocess"
    adapts, plain = (EmotionModelVersion.objects.get(name=n) for n in (ADAPTS, "emotion-whisper-base-v4"))
    assert adapts.metadata["training"]["adapts_to_deployment"] and not VoiceBaseline.objects.exists()
    services.emotion_model_promote(version=plain, admin=admin_user, reason="the plain one first")
    services.emotion_model_challenger_set(version=adapts, admin=admin_user, reason="learns in the shadow")

    first = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=180)
    shadow = ShadowPrediction.objects.get(recording__case=first)
    assert shadow.version == adapts and shadow.result["baseline_calls"] == 0  # the training data's statistics
    step = AnalysisStep.objects.get(recording__case=first, name=StepName.EMOTION)
    assert step.emotion_model == plain and step.result["baseline_calls"] is None  # v4 does not adapt
    assert voice_baseline(ADAPTS).calls == 1 and voice_baseline(plain.name) is None

    services.emotion_model_promote(version=adapts, admin=admin_user, reason="warm from the shadow")
    second = case_factory(audio=upload("wav"))
    dispatch.wait_for_inprocess(timeout=180)
    step = AnalysisStep.objects.get(recording__case=second, name=StepName.EMOTION)
    assert step.emotion_model == adapts and step.state == "done" and step.result["baseline_calls"] == 1
    learnt = voice_baseline(ADAPTS)
    assert learnt.calls == 2 and learnt.mean.shape == (3 * 1024,)  # base's layers 0+1+2, mean and spread pooled

    live = pipeline.classify_samples(call_clip)
    assert live.model_version == ADAPTS and live.baseline_calls == 2
    assert voice_baseline(ADAPTS).calls == 2  # a live window reads the baseline, never teaches it

    client.force_login(admin_user)
    page = client.get(f"/learning/models/{adapts.pk}/").content.decode()
    assert "Adapts to this deployment" in page and "2 finished calls learnt" in page
    page = client.get(f"/cases/{second.pk}/").content.decode()
    assert "heard against this deployment's callers (1 call learnt)" in page
    page = client.get(f"/learning/models/{plain.pk}/").content.decode()
    assert "Adapts to this deployment" not in page
