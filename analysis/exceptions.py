"""The analysis area's refusals (see calls.exceptions for the family)."""

from calls.exceptions import ActionRefused


class ModelVersionRefused(ActionRefused):
    """An emotion model version cannot be registered, promoted, rolled back or made a challenger."""


class TriageSettingsRefused(ActionRefused):
    """The triage settings asked for do not exist or cannot be restored."""
