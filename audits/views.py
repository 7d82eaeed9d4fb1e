"""Supervisors' pages: the audit queue, one call's audit, the dashboard, the operations panel.

Thin: they parse input, call a service or selector, and render. Supervisors and admins only.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from accounts.permissions import role_required
from analysis.selectors import emotion_model_reliability
from calls.exceptions import ActionRefused
from calls.forms import form_errors_text
from core import charts
from core.triage.acoustic import trust_explained

from . import services
from .export import write_export
from .forms import AuditForm, DashboardFilterForm
from .metrics import dashboard_figures
from .models import AuditCategory, AuditItem
from .operations import BANDS, operations_figures
from .selectors import audit_item_view, audit_items_open_for, audits_recent_by


@role_required(Role.SUPERVISOR)
@require_GET
def audit_queue(request: HttpRequest) -> HttpResponse:
    items = audit_items_open_for(request.user)[:200]
    return render(request, "audits/queue.html", {"items": items, "recent": audits_recent_by(request.user)})


@role_required(Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
def audit_item(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(AuditItem.objects.select_related("case", "recording"), pk=pk)
    view = audit_item_view(item, request.user)
    agreeing = request.method == "POST" and "agree" in request.POST
    form = AuditForm(_agreeing(request.POST, item) if agreeing else request.POST or None, initial=_initial(view))
    if agreeing and not _system_answer(item):
        messages.error(request, "The system gave no triage category for this call: choose the answers yourself.")
    elif request.method == "POST":
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
        else:
            try:
                services.audit_record(item=item, supervisor=request.user, supersedes=view.mine, **form.cleaned_data)
            except ActionRefused as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"Audit of case #{item.case_id} saved.")
                following = audit_items_open_for(request.user).first()
                return redirect(following.get_absolute_url() if following else reverse("audits:queue"))
    context = {"item": item, "view": view, "form": form, "case": item.case, "categories": AuditCategory.choices,
               "system_answer": _system_answer(item)}
    return render(request, "audits/item.html", context)


def _system_answer(item: AuditItem) -> dict[str, str] | None:
    """The system's own output as an audit answer (None when it gave no category to agree with)."""
    if item.system_category not in AuditCategory.values:
        return None
    prank = item.system_suspected_prank or item.system_category == AuditCategory.PRANK
    return {"category": item.system_category, "genuine": "no" if prank else "yes",
            "incident_type": item.system_incident_type or "other"}


def _agreeing(post: Any, item: AuditItem) -> Any:
    """One click: the system's answers, with whatever comment or transcript correction was typed."""
    data = post.copy()
    data.update(_system_answer(item) or {})
    return data


def _initial(view: Any) -> dict[str, Any]:
    mine = view.mine
    if mine is None:
        return {"incident_type": view.item.system_incident_type or "other"}
    return {"category": mine.category, "genuine": "yes" if mine.genuine else "no",
            "incident_type": mine.incident_type, "corrected_transcript": mine.corrected_transcript,
            "comment": mine.comment}


@role_required(Role.SUPERVISOR)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET or None)
    figures = dashboard_figures(form.dashboard_filter())
    query = request.GET.urlencode()
    # Which figure sets each version's voice trust: the corpora, or these audits once there are enough.
    trust = [(v, *trust_explained(emotion_model_reliability(v))) for v in figures["model_versions"] if v]
    return render(request, "audits/dashboard.html", {"form": form, "figures": figures, "query": query,
                                                     "voice_trust": trust})


@role_required(Role.SUPERVISOR)
@require_GET
def dashboard_chart(request: HttpRequest, name: str) -> HttpResponse:
    figures = dashboard_figures(DashboardFilterForm(request.GET or None).dashboard_filter())
    if name == "confusion":
        c = figures["all"]["confusion"]
        png = charts.confusion_png(c["rows_supervisor_columns_system"], c["labels"],
                                   f"{figures['all']['audited']} audited calls")
    elif name == "weekly":
        weeks = figures["weekly"]
        png = charts.lines_png([w["week"] for w in weeks],
                               {"prank false-positive rate": [w["prank_false_positive_rate"] for w in weeks],
                                "category agreement": [w["category_agreement"] for w in weeks]},
                               "week by week", "share", (0, 1))
    elif name == "reasons":
        per = figures["per_reason"]
        png = charts.bars_png(list(per), {"audited": [per[r]["audited"] for r in per]}, "audited calls per reason",
                              "calls")
    else:
        raise Http404("No such chart.")
    return HttpResponse(png, content_type="image/png")


@role_required(Role.SUPERVISOR)
@require_GET
def operations(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/operations.html", {"figures": operations_figures()})


@role_required(Role.SUPERVISOR)
@require_GET
def operations_chart(request: HttpRequest, name: str) -> HttpResponse:
    figures = operations_figures()
    if name == "waiting":
        w = figures["waiting_s"]
        png = charts.bars_png(BANDS, {"p50": [w[b]["p50"] or 0 for b in BANDS], "p95": [w[b]["p95"] or 0 for b in BANDS]},
                              "waiting time of open calls, per band", "seconds")
    elif name == "hourly":
        hours = figures["received_per_hour"]
        png = charts.lines_png([h["hour"] for h in hours], {b: [h[b] for h in hours] for b in BANDS},
                               "calls received per hour this shift", "calls")
    elif name == "operators":
        ops = figures["closed_per_operator"]
        png = charts.bars_png([o["operator"] for o in ops], {"closed": [o["calls"] for o in ops]},
                              "calls closed per operator this shift", "calls")
    else:
        raise Http404("No such chart.")
    return HttpResponse(png, content_type="image/png")


@role_required(Role.SUPERVISOR)
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    buffer = io.BytesIO()
    write_export(buffer, DashboardFilterForm(request.GET or None).dashboard_filter())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="audited-calls-{date.today()}.zip"'
    return response
