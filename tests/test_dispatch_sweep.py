"""A call whose analysis was never handed over (the web process died after the commit, or the broker was
down) is not left 'analysing' for good: the sweep hands it over again, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from analysis import tasks
from analysis.dispatch import analysis_dispatch_forgotten
from analysis.models import AnalysisStep
from calls.models import AnalysisState

pytestmark = pytest.mark.django_db


def test_a_lost_hand_over_is_handed_over_again_by_the_sweep(case_factory, upload, settings, monkeypatch,
                                                            django_capture_on_commit_callbacks):
    settings.ANALYSIS_BACKEND = "celery"
    sent: list[tuple[str, int]] = []

    def broker_down(recording_id: int) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    for task in (tasks.analyse_emotion, tasks.analyse_words):
        monkeypatch.setattr(task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_factory(audio=upload("wav"))  # the intake still answers: the call is saved
    case.refresh_from_db()
    steps = AnalysisStep.objects.filter(recording__case=case)
    assert case.analysis_state == AnalysisState.ANALYSING and steps.count() == 3
    assert not steps.filter(dispatched_at__isnull=False).exists()

    for name, task in (("emotion", tasks.analyse_emotion), ("words", tasks.analyse_words)):
        monkeypatch.setattr(task, "delay", lambda recording_id, name=name: sent.append((name, recording_id)))
    assert analysis_dispatch_forgotten() == 0  # a hand-over may still be on its way: wait a little
    steps.update(created_at=timezone.now() - timedelta(minutes=1))
    recording = case.recordings.get().pk
    assert analysis_dispatch_forgotten() == 2 and sorted(sent) == [("emotion", recording), ("words", recording)]
    assert not steps.filter(dispatched_at__isnull=True).exists()
    assert analysis_dispatch_forgotten() == 0 and len(sent) == 2  # handed over once


def test_a_normal_hand_over_is_noted_so_the_sweep_leaves_it(case_factory, upload, settings, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    settings.ANALYSIS_BACKEND = "celery"
    for task in (tasks.analyse_emotion, tasks.analyse_words):
        monkeypatch.setattr(task, "delay", lambda recording_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_factory(audio=upload("wav"))
    steps = AnalysisStep.objects.filter(recording__case=case)
    steps.update(created_at=timezone.now() - timedelta(minutes=1))
    assert not steps.filter(dispatched_at__isnull=True).exists() and analysis_dispatch_forgotten() == 0


def test_the_beat_task_hands_over_what_was_forgotten(case_factory, upload, settings, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    settings.ANALYSIS_BACKEND = "celery"
    sent: list[tuple[str, int]] = []
    def broker_down(recording_id: int) -> None:
        raise ConnectionError("down")

    for task in (tasks.analyse_emotion, tasks.analyse_words):
        monkeypatch.setattr(task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        case = case_factory(audio=upload("wav"))
    AnalysisStep.objects.filter(recording__case=case).update(created_at=timezone.now() - timedelta(minutes=1))
    for name, task in (("emotion", tasks.analyse_emotion), ("words", tasks.analyse_words)):
        monkeypatch.setattr(task, "delay", lambda recording_id, name=name: sent.append((name, recording_id)))
    assert tasks.dispatch_forgotten() == 2 and {name for name, _ in sent} == {"emotion", "words"}
    assert tasks.dispatch_forgotten() == 0


def test_an_emotion_job_lost_on_its_way_to_a_worker_is_handed_over_again(case_factory, upload, settings, monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    """Redis hands a message to a worker before the worker notes it as unacknowledged: a worker killed in
    between loses it for good. The first score must come all the same; a transcript waits its turn."""
    from analysis.models import StepName, StepState

    settings.ANALYSIS_BACKEND = "celery"
    sent: list[tuple[str, int]] = []
    for name, task in (("emotion", tasks.analyse_emotion), ("words", tasks.analyse_words)):
        monkeypatch.setattr(task, "delay", lambda recording_id, name=name: sent.append((name, recording_id)))
    with django_capture_on_commit_callbacks(execute=True):
        case = case_factory(audio=upload("wav"))  # handed over; no worker ever runs it
    recording = case.recordings.get().pk
    steps = AnalysisStep.objects.filter(recording__case=case)
    sent.clear()
    assert analysis_dispatch_forgotten() == 0  # handed over just now: on its way
    long_ago = timezone.now() - timedelta(seconds=settings.ANALYSIS_EMOTION_STALE_SECONDS + 5)
    steps.update(dispatched_at=long_ago, created_at=long_ago)
    assert analysis_dispatch_forgotten() == 1 and sent == [("emotion", recording)]
    assert analysis_dispatch_forgotten() == 0 and len(sent) == 1  # noted: not sent again at the next sweep
    steps.update(dispatched_at=long_ago)
    steps.filter(name=StepName.EMOTION).update(state=StepState.DONE)
    assert analysis_dispatch_forgotten() == 0  # a finished step is never sent again
