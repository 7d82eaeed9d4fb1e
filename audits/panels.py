"""The audit app's section of the case page: whether the call is in the audit queue, and why."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Role
from calls.models import Case
from calls.panels import CasePanel

from .models import AuditItem


def _audit_panel_render(request: HttpRequest, case: Case) -> SafeString | None:
    if not request.user.has_role(Role.SUPERVISOR):  # type: ignore[union-attr]
        return None
    item = AuditItem.objects.filter(case=case).first()
    if item is None:
        return None
    context = {"item": item, "answers": item.audits.filter(superseded_by__isnull=True).count()}
    return mark_safe(render_to_string("audits/_case_panel.html", context, request=request))


AUDIT_PANEL = CasePanel(name="audit", column="side", order=20, render=_audit_panel_render)
