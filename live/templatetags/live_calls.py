"""The "live" badge: ``{% live_case_ids cases as live_ids %}`` once for a list (one query), then
``case.pk in live_ids``; ``case|is_live`` for one case. ``user|takes_desk_calls`` for the nav bar."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from calls.models import Case

from .. import auth, selectors

register = template.Library()


@register.simple_tag
def live_case_ids(cases: Iterable[Case]) -> set[int]:
    return selectors.live_case_ids(case.pk for case in cases)


@register.filter
def is_live(case: Case) -> bool:
    return selectors.case_is_live(case)


@register.filter
def takes_desk_calls(user: object) -> bool:
    """Whether the nav bar offers "Take a live call" (live.auth.takes_desk_calls: operators)."""
    return auth.takes_desk_calls(user)
