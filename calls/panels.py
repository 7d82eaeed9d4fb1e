"""Sections of the case page that the apps above calls contribute (the analysis, the audit).

An app registers a panel in its AppConfig.ready; the case page renders every registered panel
the user may see, in order. A panel with a ``live_url`` is re-fetched by the page whenever the
case changes, so it never goes stale while the operator looks at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.safestring import SafeString

from .models import Case


@dataclass(frozen=True)
class CasePanel:
    name: str
    column: str  # "main" or "side"
    order: int
    render: Callable[[HttpRequest, Case], SafeString | None]  # None: nothing for this user
    live_url: Callable[[Case], str] | None = None


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    html: SafeString
    live_url: str | None


_panels: dict[str, CasePanel] = {}


def case_panel_register(panel: CasePanel) -> None:
    """Register (or replace, by name) a panel; called from an AppConfig.ready."""
    if panel.column not in ("main", "side"):
        raise ValueError(f"Panel column must be 'main' or 'side', not {panel.column!r}.")
    _panels[panel.name] = panel


def case_panels_render(request: HttpRequest, case: Case) -> dict[str, list[RenderedPanel]]:
    """The panels of one case page, per column, in order."""
    columns: dict[str, list[RenderedPanel]] = {"main": [], "side": []}
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.name)):
        html = panel.render(request, case)
        if html is not None:
            url = panel.live_url(case) if panel.live_url else None
            columns[panel.column].append(RenderedPanel(panel.name, html, url))
    return columns
