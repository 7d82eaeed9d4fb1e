"""Overrides, triage settings versions, caller history: the Django side of triage."""


import pytest
from django.urls import reverse

from analysis import dispatch, services
from analysis.models import TriageScore, TriageSettings
from calls import services as case_services
from calls.models import EventKind, Outcome
from core.triage.policy import DEFAULT_CONFIG

pytestmark = pytest.mark.django_db


def test_a_new_call_is_queued_at_once_at_a_safe_provisional_priority(case_factory):
    case = case_factory()
    score = TriageScore.objects.get(case=case)
    assert score.provisional and case.priority_band in ("high", "critical")
    assert case.analysis_state == "no_audio"


def test_supervisor_override_wins_and_is_audited(case_factory, supervisor):
    case = case_factory()
    services.case_override_priority(case=case, supervisor=supervisor, score=5, reason="Known test line")
    case.refresh_from_db()
    assert case.priority_base == 5 and case.priority_band == "low"
    assert case.priority_reasons[0] == "supervisor override: Known test line (sunita)"
    event = case.events.get(kind=EventKind.PRIORITY_OVERRIDDEN)
    assert event.actor == supervisor and event.reason == "Known test line" and event.data["to"] == 5
    services.case_override_priority(case=case, supervisor=supervisor, score=None, reason="Cleared")
    case.refresh_from_db()
    assert case.priority_override is None and case.priority_band in ("high", "critical")


@pytest.mark.parametrize("score, reason, message", [(101, "x", "from 0 to 100"), (50, " ", "reason")])
def test_bad_override_is_refused(case_factory, supervisor, score, reason, message):
    case = case_factory()
    with pytest.raises(case_services.CaseActionError, match=message):
        services.case_override_priority(case=case, supervisor=supervisor, score=score, reason=reason)
    assert not case.events.filter(kind=EventKind.PRIORITY_OVERRIDDEN).exists()


def test_operators_cannot_override(case_factory, operator):
    with pytest.raises(case_services.NotAllowed):
        services.case_override_priority(case=case_factory(), supervisor=operator, score=1, reason="no")


def test_confirmed_pranks_from_the_same_number_lower_a_new_call(case_factory, operator):
    earlier = case_factory(caller_number="+91 90000 11111")
    case_services.case_claim(case=earlier, operator=operator)
    case_services.case_close(case=earlier, user=operator, outcome=Outcome.PRANK, reason="Laughing, admitted")
    repeat = case_factory(caller_number="90000 11111")
    stranger = case_factory(caller_number="90000 22222")
    assert repeat.priority_base < stranger.priority_base
    score = TriageScore.objects.filter(case=repeat).first()
    prank = next(c for c in score.components if c["name"] == "prank")
    assert "1 confirmed prank from this number in 7 days" in prank["reason"]


def _settings_form(**changes):
    """What the settings page posts: one field per weight, category and model label."""
    from analysis.forms import TriageSettingsForm

    data = {k: v for k, v in TriageSettingsForm.initial_from(DEFAULT_CONFIG).items()}
    data.update(changes)
    data.setdefault("note", "test")
    return data


@pytest.mark.django_db(transaction=True)
def test_admin_saves_a_new_settings_version_and_open_cases_are_rescored_in_the_background(
    client, admin_user, case_factory, settings
):
    settings.ANALYSIS_BACKEND = "inprocess"
    case = case_factory()
    client.force_login(admin_user)
    response = client.submit(reverse("analysis:triage_settings"), data=_settings_form(max_wait_seconds=120))
    assert response.status_code == 302
    saved = TriageSettings.objects.get()
    assert saved.version == 2 and saved.max_wait_seconds == 120
    dispatch.wait_for_inprocess(timeout=60)
    assert TriageScore.objects.filter(case=case).first().config_version == 2


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"m_fearful": "terrified"}, "Select a valid choice. terrified is not one of the available choices."),
        ({"w_distress": -3}, "distress"),
        ({"w_unknown_severity": 0.1}, "unknown_severity"),
        ({"c_calm": 1.5}, "less than or equal to 1"),
        ({"w_baseline": "lots"}, "Enter a number"),
    ],
)
def test_bad_settings_are_refused_with_a_message(client, admin_user, changes, message):
    client.force_login(admin_user)
    response = client.submit(reverse("analysis:triage_settings"), data=_settings_form(**changes))
    assert response.status_code == 200 and message in response.content.decode()
    assert not TriageSettings.objects.exists()


def test_every_setting_has_its_own_field_with_help(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("analysis:triage_settings")).content.decode()
    for field in ("w_baseline", "w_prank", "c_stressful", "m_fearful", "m_surprised", "max_wait_seconds"):
        assert f'name="{field}"' in page, field
    assert "Most points a certain prank loses" in page and "built-in defaults" in page


@pytest.mark.django_db(transaction=True)
def test_versions_are_listed_compared_and_restored_once_confirmed(client, admin_user, settings):
    settings.ANALYSIS_BACKEND = "inprocess"
    client.force_login(admin_user)
    client.submit(reverse("analysis:triage_settings"), data=_settings_form(w_prank=10, note="gentler on pranks"))
    client.submit(reverse("analysis:triage_settings"), data=_settings_form(w_prank=10, max_wait_seconds=120,
                                                                          m_happy="calm", note="faster"))
    page = client.get(reverse("analysis:triage_settings")).content.decode()
    assert all(f'data-version="{v}"' in page for v in (1, 2, 3))  # every version stays listed
    compared = client.get(reverse("analysis:triage_settings_compare") + "?a=2&b=3").content.decode()
    assert "2 settings differ" in compared and "label happy" in compared and "max wait (s)" in compared
    assert client.get(reverse("analysis:triage_settings_compare") + "?a=2&b=99").status_code == 302
    response = client.submit("/analysis/triage-settings/1/restore/", data={"confirmed": "yes"}, follow=True)
    assert b"v1 restored as v4" in response.content
    restored = TriageSettings.objects.get(version=4)
    assert restored.as_config().to_dict() | {"version": 1} == DEFAULT_CONFIG.to_dict() and restored.note == "restored v1"
    dispatch.wait_for_inprocess(timeout=60)
    assert TriageSettings.objects.count() == 3  # v2, v3, v4: nothing edited, nothing removed


def test_saving_settings_leaves_the_rescore_to_a_background_job(admin_user, case_factory, django_capture_on_commit_callbacks):
    case = case_factory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.triage_settings_save(admin=admin_user, **{k: v for k, v in DEFAULT_CONFIG.to_dict().items()
                                                            if k != "version"})
    assert TriageScore.objects.filter(case=case).first().config_version == 1  # not in the request
    assert dispatch.open_cases_rescore_dispatch in callbacks
