from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from core.triage.config import CATEGORIES, MAX_WAIT_LIMITS, SCORE_MAX, SCORE_MIN, ConfigError, TriageConfig


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


# What each weight does, for the form's help texts (the policy is core/triage/policy.py).
WEIGHT_HELP = {
    "baseline": "Points every call starts with.",
    "distress": "Points at full acoustic distress (weighted by the model's measured trust).",
    "severity": "Points at full severity from the words.",
    "abusive": "Points for abusive language (it is shown as a reason either way).",
    "prank": "Most points a certain prank loses (with 'non emergency': at most 50 together).",
    "non_emergency": "Most points a call that is certainly an enquiry, wrong number, test call, order or service request loses "
                     "(with 'prank': at most 50 together). Words of a threat to life cancel it.",
    "incident_severity": "Severity (0–1) of words that name an incident (fire, accident, snake bite) without a threat to life.",
    "unknown_distress": "Distress (0–1) used when the voice analysis is missing or failed; at least a typical call's 0.5.",
    "unknown_severity": "Severity (0–1) used when the words are missing or failed, and kept in proportion to how unsure "
                        "the recogniser was of words without a cue; at least 0.5.",
    "prank_acoustic": "How much a voice's prank cue counts (0–1).",
    "prank_words": "How much the words' prank likelihood counts (0–1).",
    "prank_history": "How much confirmed pranks from the same number count (0–1).",
}


class TriageSettingsForm(forms.Form):
    """Every weight, category and label as a field of its own, with what it does; the whole is
    validated by TriageConfig (which refuses anything that could bury a genuine call)."""

    max_wait_seconds = forms.FloatField(
        min_value=MAX_WAIT_LIMITS[0], max_value=MAX_WAIT_LIMITS[1],
        help_text="Longest wait of a HIGH call (seconds). The other bands scale from it: CRITICAL a third, "
                  "NORMAL four times, LOW ten times. The queue answers calls by when they are due.")
    prank_history_days = forms.IntegerField(min_value=1, max_value=365,
                                            help_text="How far back confirmed pranks from a number count.")
    note = forms.CharField(max_length=500, required=False, help_text="Why this change (kept with the version).")

    def __init__(self, *args: Any, config: TriageConfig, model_labels: list[str] | None = None,
                 label_sources: dict[str, list[str]] | None = None, **kwargs: Any):
        kwargs.setdefault("initial", self.initial_from(config))
        super().__init__(*args, **kwargs)
        for name, value in config.weights.items():
            if isinstance(value, dict):
                continue
            self.fields[f"w_{name}"] = forms.FloatField(label=name.replace("_", " "), help_text=WEIGHT_HELP.get(name, ""))
        for category in CATEGORIES:
            self.fields[f"c_{category}"] = forms.FloatField(
                label=f"distress of '{category}'", min_value=0, max_value=1,
                help_text="How distressed a voice in this category counts (0–1).")
        # Every label a registered version (one trained on an audit export included) can give, as the
        # triage reads it (stripped, lower-case): a label without a row here could never be mapped.
        sources = label_sources or {}
        labels = list(dict.fromkeys([*config.label_mapping, *(m.strip().lower() for m in model_labels or [])]))
        for label in labels:
            unmapped = label not in config.label_mapping
            self.fields[f"m_{label}"] = forms.ChoiceField(
                label=f"model label '{label}'" + (" (not mapped yet)" if unmapped else ""),
                choices=[("", "(not mapped)"), *[(c, c) for c in CATEGORIES]], required=False,
                help_text="The triage category this model label counts as"
                          + (f"; given by {', '.join(sources[label])}." if sources.get(label) else "."))
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save as new version"))

    @staticmethod
    def initial_from(config: TriageConfig) -> dict[str, Any]:
        initial: dict[str, Any] = {"max_wait_seconds": config.max_wait_seconds,
                                   "prank_history_days": config.prank_history_days}
        for name, value in config.weights.items():
            if isinstance(value, dict):
                initial.update({f"c_{k}": v for k, v in value.items()})
            else:
                initial[f"w_{name}"] = value
        initial.update({f"m_{label}": category for label, category in config.label_mapping.items()})
        return initial

    def clean(self) -> dict[str, Any]:
        # Form.clean() returns cleaned_data, never None (the stubs allow None for overrides).
        data = cast(dict[str, Any], super().clean())
        if self.errors:
            return data
        weights: dict[str, Any] = {k[2:]: v for k, v in data.items() if k.startswith("w_")}
        weights["category_distress"] = {k[2:]: v for k, v in data.items() if k.startswith("c_")}
        mapping = {k[2:]: v for k, v in data.items() if k.startswith("m_") and v}
        try:
            TriageConfig(version=1, weights=weights, label_mapping=mapping,
                         max_wait_seconds=data["max_wait_seconds"], prank_history_days=data["prank_history_days"])
        except ConfigError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return {"weights": weights, "label_mapping": mapping, "max_wait_seconds": data["max_wait_seconds"],
                "prank_history_days": data["prank_history_days"], "note": data.get("note", "")}


class SettingsRestoreForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)


class SettingsCompareForm(forms.Form):
    a = forms.IntegerField(min_value=1)
    b = forms.IntegerField(min_value=1)
