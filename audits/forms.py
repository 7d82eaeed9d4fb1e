from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from .metrics import DashboardFilter
from .models import INCIDENT_CHOICES, AuditCategory


class AuditForm(forms.Form):
    category = forms.ChoiceField(choices=AuditCategory.choices, widget=forms.RadioSelect,
                                 help_text="Keys 1–7 choose; G genuine, P prank; Ctrl+Enter saves.")
    genuine = forms.TypedChoiceField(choices=[("yes", "Genuine emergency"), ("no", "Prank / hoax")],
                                     coerce=lambda v: v == "yes", widget=forms.RadioSelect)
    incident_type = forms.ChoiceField(choices=INCIDENT_CHOICES)
    corrected_transcript = forms.CharField(required=False, max_length=20000,
                                           widget=forms.Textarea(attrs={"rows": 3}),
                                           help_text="Only if the transcript is wrong: what the caller said.")
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class DashboardFilterForm(forms.Form):
    model_version = forms.CharField(required=False, max_length=128)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if isinstance(since, date) and isinstance(until, date) and since > until:
            raise forms.ValidationError("The window starts after it ends.")
        return data

    def dashboard_filter(self) -> DashboardFilter:
        """The filter, or everything when the form is not valid (its errors are shown)."""
        if not self.is_valid():
            return DashboardFilter()
        data = self.cleaned_data
        return DashboardFilter(model_version=data.get("model_version") or "", since=data.get("since"),
                               until=data.get("until"))
