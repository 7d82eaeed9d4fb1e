from __future__ import annotations

from typing import Any

from django import forms


class ActivationForm(forms.Form):
    """Why a version is made active (promote) or the previous one restored (rollback): kept for good."""

    reason = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"placeholder": "why, for the record"}))


class PromoteForm(ActivationForm):
    reanalyse = forms.BooleanField(required=False, label="Re-analyse the open cases' voices with it now",
                                   help_text="Each replaced result is kept; the new scores arrive in the background.")


class CompareForm(forms.Form):
    a = forms.IntegerField(min_value=1)
    b = forms.IntegerField(min_value=1)


class DatasetImportForm(forms.Form):
    name = forms.CharField(max_length=100)
    archive = forms.FileField(required=False, help_text="zip, tar or tar.gz: RAVDESS or 112-scheme names, or a "
                              "manifest.csv (path,label,speaker,gender), e.g. an audit export.")
    folder = forms.CharField(required=False, max_length=500, help_text="…or a folder on the server, inside the "
                             "allowed import folders.")


class TrainingRunForm(forms.Form):
    dataset: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, empty_label=None)
    folds = forms.IntegerField(min_value=2, max_value=10, initial=6,
                               help_text="Folds by speaker: every figure is on speakers the model never heard.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .models import Dataset, ImportState

        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.filter(state=ImportState.DONE)  # type: ignore[attr-defined]


class ClipChangeForm(forms.Form):
    label = forms.CharField(max_length=32)
    excluded = forms.BooleanField(required=False)
    reason = forms.CharField(max_length=500)
