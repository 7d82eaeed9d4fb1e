"""Claim, release, close, reassign, notes: allowed moves, refused moves, and the event trail."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from calls import services
from calls.models import CaseEvent, CaseStatus, EventKind, Outcome

pytestmark = pytest.mark.django_db


def test_claim_release_close_leaves_an_event_for_each_step(case_factory, operator):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    services.case_release(case=case, user=operator, reason="wrong desk")
    services.case_claim(case=case, operator=operator)
    services.case_close(case=case, user=operator, outcome=Outcome.HEALTH, reason="Ambulance sent")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_by == operator
    trail = [(e.kind, e.from_status, e.to_status, e.actor) for e in case.events.exclude(kind=EventKind.CREATED)]
    assert trail == [
        (EventKind.CLAIMED, "open", "claimed", operator),
        (EventKind.RELEASED, "claimed", "open", operator),
        (EventKind.CLAIMED, "open", "claimed", operator),
        (EventKind.CLOSED, "claimed", "closed", operator),
    ]
    assert case.events.get(kind=EventKind.CLOSED).reason == "Ambulance sent"


def test_second_operator_cannot_claim_a_claimed_case(case_factory, operator, operator2):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    with pytest.raises(services.CaseActionError, match="already claimed by olivia"):
        services.case_claim(case=case, operator=operator2)


@pytest.mark.parametrize(
    "action",
    [
        lambda case, user: services.case_release(case=case, user=user),
        lambda case, user: services.case_close(case=case, user=user, outcome=Outcome.RESOLVED, reason="x"),
    ],
)
def test_an_open_case_cannot_be_released_or_closed(case_factory, operator, action):
    case = case_factory()
    with pytest.raises(services.CaseActionError, match="cannot become"):
        action(case, operator)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert list(case.events.values_list("kind", flat=True)) == [EventKind.CREATED]


def test_a_closed_case_cannot_be_claimed_or_reopened(case_factory, operator):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    services.case_close(case=case, user=operator, outcome=Outcome.PRANK, reason="Laughing, admitted prank")
    for action in (
        lambda: services.case_claim(case=case, operator=operator),
        lambda: services.case_release(case=case, user=operator),
        lambda: services.case_close(case=case, user=operator, outcome=Outcome.RESOLVED, reason="again"),
    ):
        with pytest.raises(services.CaseActionError):
            action()
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.outcome == Outcome.PRANK


def test_only_the_handler_or_a_supervisor_may_close(case_factory, operator, operator2, supervisor):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    with pytest.raises(services.NotAllowed):
        services.case_close(case=case, user=operator2, outcome=Outcome.RESOLVED, reason="not mine")
    services.case_close(case=case, user=supervisor, outcome=Outcome.RESOLVED, reason="supervisor closed")


def test_close_needs_a_reason_and_a_known_outcome(case_factory, operator):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    with pytest.raises(services.CaseActionError, match="reason"):
        services.case_close(case=case, user=operator, outcome=Outcome.RESOLVED, reason="  ")
    with pytest.raises(services.CaseActionError, match="not a known outcome"):
        services.case_close(case=case, user=operator, outcome="vanished", reason="?")


def test_reassign_is_for_supervisors_with_a_reason(case_factory, operator, operator2, supervisor):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    with pytest.raises(services.NotAllowed):
        services.case_reassign(case=case, supervisor=operator, operator=operator2, reason="swap")
    services.case_reassign(case=case, supervisor=supervisor, operator=operator2, reason="Omar speaks Tamil")
    case.refresh_from_db()
    assert case.claimed_by == operator2
    assert case.events.get(kind=EventKind.REASSIGNED).reason == "Omar speaks Tamil"


def test_events_are_append_only(case_factory):
    event = CaseEvent.objects.get(case=case_factory())
    event.reason = "rewritten history"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_refused_claim_on_the_page_says_who_has_it(client, case_factory, operator, operator2):
    case = case_factory()
    client.force_login(operator2)
    stale = client.form_on(case.get_absolute_url(), reverse("calls:case_claim", args=[case.pk]))
    services.case_claim(case=case, operator=operator)  # while Omar's page still shows "Claim"
    response = client.post_form(stale, follow=True)
    assert "already claimed by olivia" in response.content.decode()


def test_case_page_shows_the_history(client, case_factory, operator):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    services.note_add(case=case, author=operator, text="Caller is calm now")
    client.force_login(operator)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Claimed" in page and "Caller is calm now" in page and "Note added" in page


def test_operators_do_not_see_cases_closed_by_others(client, case_factory, operator, operator2, supervisor):
    case = case_factory()
    services.case_claim(case=case, operator=operator)
    services.case_close(case=case, user=operator, outcome=Outcome.RESOLVED, reason="done")
    client.force_login(operator2)
    assert client.get(case.get_absolute_url()).status_code == 404
    client.force_login(supervisor)
    assert client.get(case.get_absolute_url()).status_code == 200
