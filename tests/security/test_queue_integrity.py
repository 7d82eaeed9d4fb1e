"""What a client or a supervisor cannot do to the queue (security issue, "partly held")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calls import services
from calls.exceptions import CaseActionError
from calls.forms import ReassignForm
from calls.models import Case

pytestmark = pytest.mark.django_db


def test_a_backdated_call_does_not_jump_the_queue(case_factory):
    """Attack: a call backdated by up to 7 days (allowed, for the record) sat at #1 above live calls."""
    live = case_factory(caller_number="+91 98000 00001")
    backdated = case_factory(caller_number="+91 98000 00002", received_at=timezone.now() - timedelta(days=6))
    live.refresh_from_db()
    backdated.refresh_from_db()
    assert backdated.priority_base == live.priority_base  # same evidence: nothing known yet
    assert backdated.due_at >= live.due_at  # due from when the portal took it in, not the claimed time
    order = list(Case.objects.filter(pk__in=[live.pk, backdated.pk]).order_by("-queue_key", "pk"))
    assert order[0] == live


def test_a_case_cannot_be_reassigned_to_a_machine_account(case_factory, supervisor, make_user):
    intake = make_user("intake", "pbx-1")
    admin = make_user("admin", "arjun")
    case = case_factory()
    with pytest.raises(CaseActionError, match="does not take calls"):
        services.case_reassign(case=case, supervisor=supervisor, operator=intake, reason="test")
    offered = set(ReassignForm().fields["operator"].queryset.values_list("username", flat=True))
    assert "pbx-1" not in offered and admin.username not in offered and supervisor.username in offered
