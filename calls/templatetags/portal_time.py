"""One form for every date and time the portal shows, in the portal's time zone (TIME_ZONE).

Pages used to mix Django's default ("Dec. 4, 2026, 6:52 p.m."), bare times ("18:53:03") and UTC
ISO strings; a call-taker comparing a call's time with a log needs one unambiguous form.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

#: The one display form: 2026-12-04 18:52:03 (24-hour clock, the portal's time zone).
WHEN_FORMAT = "Y-m-d H:i:s"


def _aware(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def when_text(value: datetime | str | None) -> str:
    """The display text of a datetime (or an ISO string) in the portal's zone, '' for nothing."""
    instant = _aware(value)
    return date_format(timezone.localtime(instant), WHEN_FORMAT) if instant is not None else ""


@register.filter
def when(value: datetime | str | None) -> SafeString | str:
    """<time> with the display text, the exact instant, and the zone's name on hover."""
    instant = _aware(value)
    if instant is None:
        return "—"
    local = timezone.localtime(instant)
    return format_html('<time datetime="{}" title="{} ({})">{}</time>', instant.isoformat(),
                       timezone.get_current_timezone_name(), local.strftime("%Z"), date_format(local, WHEN_FORMAT))
