from __future__ import annotations

import re
from typing import Any

from django import forms


class ActivationForm(forms.Form):
    """Why a version is made active (promote) or the previous one restored (rollback): kept for good."""

    reason = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"placeholder": "why, for the record"}))


class PromoteForm(ActivationForm):
    reanalyse = forms.BooleanField(required=False, label="Re-analyse the open cases' voices with it now",
                                   help_text="Each replaced result is kept; the new scores arrive in the background.")


class WordsTrainingForm(forms.Form):
    note = forms.CharField(max_length=300, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "what this run is for (optional)"}))


class CompareForm(forms.Form):
    a = forms.IntegerField(min_value=1)
    b = forms.IntegerField(min_value=1)


class DatasetImportForm(forms.Form):
    name = forms.CharField(max_length=100)
    archive = forms.FileField(required=False, help_text="zip, tar or tar.gz: RAVDESS or 112-scheme names, or a "
                              "manifest.csv (path,label,speaker,gender), e.g. an audit export.")
    folder = forms.CharField(required=False, max_length=500, help_text="…or a folder on the server, inside the "
                             "allowed import folders.")


def _imported() -> Any:
    from .models import Dataset, ImportState

    return Dataset.objects.filter(state=ImportState.DONE)


class TrainingRunForm(forms.Form):
    dataset: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, empty_label=None)
    extra_datasets: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=None, required=False, label="Also train on",
        help_text="Datasets trained on together with the first (each speaker stays on one side of every split).")
    check_dataset: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, required=False, label="Check on another corpus", empty_label="none",
        help_text="A corpus the model never trains on (other voices, language, microphones), judged after "
                  "training. Without it the triage gives a promoted version's voice no weight.")
    folds = forms.IntegerField(min_value=2, max_value=10, initial=6,
                               help_text="Folds by speaker: every figure is on speakers the model never heard.")
    held_out_speakers = forms.CharField(
        required=False, max_length=500, label="Held-out speakers",
        help_text="Instead of the folds: speakers (e.g. 03, 08) kept out of training altogether and measured "
                  "on; with several datasets name them dataset/speaker. The head is a regularised logistic "
                  "regression whose settings inner cross-validation chooses: there are no epochs to set.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("dataset", "extra_datasets", "check_dataset"):
            self.fields[name].queryset = _imported()  # type: ignore[attr-defined]


    def clean_held_out_speakers(self) -> list[str]:
        return [s for s in re.split(r"[\s,;]+", self.cleaned_data["held_out_speakers"]) if s]


class EvaluationForm(forms.Form):
    dataset: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, empty_label=None, label="Judge both on", widget=forms.Select(attrs={"class": "form-select"}),
        help_text="Only the dataset's speakers that neither version heard are used, the same clips for both.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = _imported()  # type: ignore[attr-defined]


class ClipChangeForm(forms.Form):
    label = forms.CharField(max_length=32)
    excluded = forms.BooleanField(required=False)
    reason = forms.CharField(max_length=500)
