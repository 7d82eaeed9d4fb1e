from typing import TYPE_CHECKING, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.conf import settings
from django.utils import timezone

from .models import Case, Outcome
from .phone import normalise_caller_number

if TYPE_CHECKING:
    from accounts.models import User


def form_errors_text(form: forms.BaseForm) -> str:
    """All of a form's errors as one sentence, for a message on the page it came from."""
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


AUDIO_ACCEPT = ".wav,.mp3,.ogg,.oga,.opus,.webm,.flac,.m4a,audio/*"


def audio_field(required: bool = False) -> forms.FileField:
    return forms.FileField(
        required=required,
        allow_empty_file=True,  # the intake service refuses it with a clear message, and keeps the case
        label="Call audio",
        help_text=(
            f"wav, mp3, ogg, webm/opus, flac or m4a; at most {settings.MAX_UPLOAD_MB} MB and "
            f"{settings.MAX_AUDIO_SECONDS / 60:g} minutes."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": AUDIO_ACCEPT}),
    )


class CaseIntakeForm(forms.ModelForm):
    audio = audio_field()

    class Meta:
        model = Case
        fields = ["caller_number", "received_at", "language", "location", "latitude", "longitude"]
        widgets = {
            "received_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "caller_number": forms.TextInput(attrs={"placeholder": "98765 43210 or +44 20 7946 0958"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        self.fields["location"].help_text = "What the caller said about where they are."
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("caller_number", css_class="col-md-6"), Column("received_at", css_class="col-md-6")),
            Row(Column("language", css_class="col-md-4"), Column("location", css_class="col-md-8")),
            Row(Column("latitude", css_class="col-md-6"), Column("longitude", css_class="col-md-6")),
            "audio",
        )

    def clean_caller_number(self) -> str:
        return normalise_caller_number(self.cleaned_data["caller_number"])


class RecordingForm(forms.Form):
    audio = audio_field(required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page wraps it in its own <form> with the action
        self.helper.add_input(Submit("submit", "Attach audio", css_class="btn-secondary"))


# The dispatch outcome each department of the lexicon stands for (core.text.lexicon.DEPARTMENTS).
OUTCOME_FOR_DEPARTMENT = {
    "health": Outcome.HEALTH, "fire": Outcome.FIRE, "police": Outcome.POLICE, "women_help": Outcome.WOMENS_HELP,
}


def outcome_suggested(incident_type: str) -> str:
    """The dispatch the words' incident type routes to ('' when the type is unknown or 'other': a
    guess there would be the lexicon's catch-all department, so the operator chooses)."""
    if not incident_type or incident_type == "other":
        return ""
    from core.text.lexicon import matcher_for  # cached per lexicon files; only pages that close load it

    department = matcher_for(settings.EXTRA_LEXICON_DIR).lexicon.departments.get(incident_type, "")
    return OUTCOME_FOR_DEPARTMENT.get(department, "")


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose the outcome…"), *Outcome.choices],
                                error_messages={"required": "Choose the outcome of the call."})
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, case: Case | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        incident = case.incident_type if case is not None else ""
        suggested = outcome_suggested(incident)
        if suggested:
            self.fields["outcome"].initial = suggested
            self.fields["outcome"].help_text = f"Suggested from the incident type ({incident})."
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page wraps it in its own <form> with the action
        self.helper.add_input(Submit("submit", "Close case", css_class="btn-danger"))


class NoteForm(forms.Form):
    text = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page wraps it in its own <form> with the action
        self.helper.add_input(Submit("submit", "Add note", css_class="btn-secondary"))


class ReassignForm(forms.Form):
    operator: "forms.ModelChoiceField[User]" = forms.ModelChoiceField(queryset=None)
    reason = forms.CharField(max_length=2000)

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[User]", self.fields["operator"]).queryset = (
            # people who take calls: never a machine (intake) account, nor an admin's desk
            get_user_model().objects.filter(is_active=True, role__in=["operator", "supervisor"]).order_by("username")
        )
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page wraps it in its own <form> with the action
        self.helper.add_input(Submit("submit", "Reassign", css_class="btn-warning"))
