"""The learning loop's refusals (see calls.exceptions for the family; role refusals stay NotAllowed)."""

from calls.exceptions import ActionRefused


class DatasetRefused(ActionRefused):
    """A dataset cannot be imported or changed, or does not suit the training or evaluation asked for."""


class JobRefused(ActionRefused):
    """A training run or an evaluation cannot be started or cancelled as asked (its settings, its state)."""
