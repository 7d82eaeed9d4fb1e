from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from calls.exceptions import CaseActionError
from calls.selectors import cases_visible_to

from . import services
from .forms import PriorityOverrideForm, TriageSettingsForm
from .models import TriageSettings


@role_required(Role.SUPERVISOR)
@require_POST
def priority_override(request, pk: int):
    case = get_object_or_404(cases_visible_to(request.user), pk=pk)
    form = PriorityOverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(case)
    try:
        services.case_override_priority(
            case=case, supervisor=request.user, score=form.cleaned_data["score"], reason=form.cleaned_data["reason"]
        )
    except CaseActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Priority updated.")
    return redirect(case)


@role_required(Role.ADMIN)
def triage_settings(request):
    current = services.triage_config_active()
    form = TriageSettingsForm(request.POST or None, initial=current.to_dict())
    if request.method == "POST" and form.is_valid():
        saved = services.triage_settings_save(admin=request.user, **form.cleaned_data)
        messages.success(request, f"Triage settings v{saved.version} saved; open cases re-scored.")
        return redirect("analysis:triage_settings")
    history = TriageSettings.objects.select_related("created_by")[:20]
    return render(request, "analysis/triage_settings.html", {"form": form, "current": current, "history": history})
