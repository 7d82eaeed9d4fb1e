import json
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from core.triage.config import CATEGORIES, SCORE_MAX, SCORE_MIN, ConfigError, TriageConfig


class PriorityOverrideForm(forms.Form):
    score = forms.FloatField(
        min_value=SCORE_MIN,
        max_value=SCORE_MAX,
        required=False,
        help_text="0–100; leave empty to clear the override.",
    )
    reason = forms.CharField(max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", "Set priority", css_class="btn-warning"))


class JSONObjectField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "class": "font-monospace"})

    def to_python(self, value):
        value = super().to_python(value)
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Give a JSON object, e.g. {\"fearful\": \"stressful\"}.")
        return parsed

    def prepare_value(self, value):
        return json.dumps(value, indent=2, sort_keys=True) if isinstance(value, dict) else value


class TriageSettingsForm(forms.Form):
    weights = JSONObjectField()
    label_mapping = JSONObjectField(help_text="Model label → triage category ("
                                    + ", ".join(CATEGORIES) + ").")
    max_wait_seconds = forms.FloatField(min_value=10, help_text="After this wait a call is first in the queue.")
    prank_history_days = forms.IntegerField(min_value=1, max_value=365)
    note = forms.CharField(max_length=500, required=False, help_text="Why this change.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save as new version"))

    def clean(self) -> dict[str, Any]:
        # Form.clean() returns cleaned_data, never None (the stubs allow None for overrides).
        data = cast(dict[str, Any], super().clean())
        if self.errors:
            return data
        try:
            TriageConfig(
                version=1,
                weights=data["weights"],
                label_mapping=data["label_mapping"],
                max_wait_seconds=data["max_wait_seconds"],
                prank_history_days=data["prank_history_days"],
            )
        except ConfigError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data
