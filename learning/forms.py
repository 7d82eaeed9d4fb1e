from __future__ import annotations

from django import forms


class ActivationForm(forms.Form):
    """Why a version is made active (promote) or the previous one restored (rollback): kept for good."""

    reason = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"placeholder": "why, for the record"}))


class CompareForm(forms.Form):
    a = forms.IntegerField(min_value=1)
    b = forms.IntegerField(min_value=1)
