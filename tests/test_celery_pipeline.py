"""The analysis pipeline on a real Celery worker (separate process) with Redis and the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from analysis.models import AnalysisStep, StepName, StepState, TriageScore
from calls.models import AnalysisState, Case, PriorityBand
from emergency_portal.celery import app as celery_app
from tests.conftest import REPO

pytestmark = [
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (make test provides it)"),
]

BROKER = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"


class Worker:
    """A real `celery worker` process, started in its own process group so it can be killed whole."""

    def __init__(self, media_root, **env):
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "emergency_portal.test_settings",
            "DATABASE_URL": f"mysql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": BROKER,
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "MEDIA_ROOT": str(media_root),
            **env,
        }
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "emergency_portal", "worker", "-Q", "emotion,words",
             "-c", "2", "--without-gossip", "--without-mingle", "-l", "warning"],
            cwd=REPO, env=self.env, start_new_session=True,
        )
        return self

    def kill(self):
        """SIGKILL the worker and its pool: no clean shutdown, no chance to ack or requeue."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_backend(settings):
    settings.ANALYSIS_BACKEND = "celery"
    celery_app.conf.broker_url = BROKER
    with celery_app.connection_for_write() as conn:  # start from an empty queue
        for queue in ("emotion", "words"):
            conn.default_channel.client.delete(queue)
    yield
    celery_app.conf.broker_url = settings.CELERY_BROKER_URL


@pytest.fixture
def worker(media_root, celery_backend):
    started = []

    def start(**env):
        started.append(Worker(media_root, **env).start())
        return started[-1]

    yield start
    for w in started:
        w.stop()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def analysis_state(case) -> str:
    case.refresh_from_db()
    return case.analysis_state


def test_a_call_goes_from_upload_to_a_scored_queue_entry(worker, case_factory, upload, client, operator, ravdess_dir):
    """ravdess_dir: the transcript of the real speech is checked (skipped, with the reason, without the corpus)."""
    worker()
    case = case_factory(audio=upload("webm"))
    assert case.analysis_state == AnalysisState.ANALYSING  # in the queue at once, provisionally
    assert case.priority_band in (PriorityBand.HIGH, PriorityBand.CRITICAL)
    wait_for(lambda: analysis_state(case) == AnalysisState.DONE, 120, "the analysis to finish")
    steps = {s.name: s for s in AnalysisStep.objects.filter(recording__case=case)}
    assert {n: s.state for n, s in steps.items()} == {n: StepState.DONE for n in StepName.values}
    probabilities = steps[StepName.EMOTION].result["probabilities"]
    assert abs(sum(probabilities.values()) - 1) < 1e-4
    assert steps[StepName.TRANSCRIPTION].result["engine"] == "whisper"
    assert "door" in steps[StepName.TRANSCRIPTION].result["text"].lower()
    final = TriageScore.objects.filter(case=case).first()
    assert not final.provisional
    assert any(r.startswith("sounds ") for r in case.priority_reasons)
    client.force_login(operator)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "How the caller sounds" in page and steps[StepName.EMOTION].model_version in page


def test_a_worker_killed_mid_analysis_loses_nothing(worker, case_factory, upload, client, operator):
    first = worker()
    case = case_factory(audio=upload("wav"))
    transcription = AnalysisStep.objects.get(recording__case=case, name=StepName.TRANSCRIPTION)

    def transcribing():
        transcription.refresh_from_db()
        return transcription.state == StepState.RUNNING

    wait_for(transcribing, 120, "the transcription to start")
    first.kill()
    case.refresh_from_db()
    assert case.analysis_state == AnalysisState.ANALYSING and case.status == "open"
    client.force_login(operator)
    assert case.pk in [row["id"] for row in client.get("/api/v1/cases/").json()["results"]]

    worker()  # the restarted worker gets the unacknowledged task back and finishes it
    wait_for(lambda: analysis_state(case) == AnalysisState.DONE, 120, "the analysis to finish after restart")
    transcription.refresh_from_db()
    assert transcription.state == StepState.DONE and transcription.attempts >= 2
    assert AnalysisStep.objects.filter(recording__case=case).count() == len(StepName.values)


def test_a_failing_model_leaves_a_visible_high_priority_case(worker, case_factory, upload, client, operator, tmp_path):
    worker(EMOTION_MODEL_DIR=str(tmp_path / "no-such-model"))
    case = case_factory(audio=upload("wav"))
    wait_for(lambda: analysis_state(case) not in (AnalysisState.ANALYSING,), 120, "the analysis to end")
    case.refresh_from_db()
    assert case.analysis_state == AnalysisState.FAILED
    assert "Speech emotion" in case.analysis_error and "not found" in case.analysis_error
    assert case.priority_band in (PriorityBand.HIGH, PriorityBand.CRITICAL)
    assert "voice analysis failed: treated as urgent" in case.priority_reasons
    client.force_login(operator)
    row = next(r for r in client.get("/api/v1/cases/").json()["results"] if r["id"] == case.pk)
    assert row["analysis_state"] == "failed" and "not found" in row["analysis_error"]
    assert "Analysis problem" in client.get(case.get_absolute_url()).content.decode()
    assert settings.ANALYSIS_BACKEND == "celery"
    assert Case.objects.count() == 1


def test_a_running_worker_follows_a_promotion_on_its_next_call(worker, case_factory, upload, admin_user):
    from analysis.models import EmotionModelVersion
    from analysis.services import emotion_model_promote

    worker()
    first = case_factory(audio=upload("wav"))
    wait_for(lambda: analysis_state(first) == AnalysisState.DONE, 120, "the first analysis")
    emotion_model_promote(version=EmotionModelVersion.objects.get(name="emotion-ravdess-v2"), admin=admin_user,
                          reason="switch without a restart")
    second = case_factory(audio=upload("wav"))
    wait_for(lambda: analysis_state(second) == AnalysisState.DONE, 180, "the second analysis")
    used = dict(AnalysisStep.objects.filter(name=StepName.EMOTION).values_list("recording__case", "emotion_model__name"))
    assert used == {first.pk: "emotion-whisper-v1", second.pk: "emotion-ravdess-v2"}


def test_a_tiny_training_run_on_the_worker_makes_a_registered_version(worker, admin_user, ravdess_dir):
    from learning import training
    from learning.models import RunState, TrainingRun
    from tests.test_training_runs import imported_ravdess

    dataset = imported_ravdess(admin_user, ravdess_dir)
    worker()
    run = training.training_run_start(admin=admin_user, dataset=dataset, folds=2)  # dispatched on commit

    def finished():
        run.refresh_from_db()
        return not run.active

    wait_for(finished, 180, "the training run")
    run = TrainingRun.objects.select_related("version").get(pk=run.pk)
    assert run.state == RunState.DONE, run.error
    assert run.version.name == f"emotion-tiny-run{run.pk}" and run.version.metadata["metrics"]["held_out"]["folds"]
