from __future__ import annotations

from django import forms


class ActivationForm(forms.Form):
    """Why a version is made active (promote) or the previous one restored (rollback): kept for good."""

    reason = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"placeholder": "why, for the record"}))


class CompareForm(forms.Form):
    a = forms.IntegerField(min_value=1)
    b = forms.IntegerField(min_value=1)


class DatasetImportForm(forms.Form):
    name = forms.CharField(max_length=100)
    archive = forms.FileField(required=False, help_text="zip, tar or tar.gz: RAVDESS or 112-scheme names, or a "
                              "manifest.csv (path,label,speaker,gender), e.g. an audit export.")
    folder = forms.CharField(required=False, max_length=500, help_text="…or a folder on the server, inside the "
                             "allowed import folders.")
