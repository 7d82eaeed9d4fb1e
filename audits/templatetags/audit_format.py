from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.0833 -> "8.3 %"; None -> "—"."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f} %"
