"""The services' refusals. Every area raises its own kind, so a name says what was refused; the
pages, the API (calls.problems) and the commands catch ``ActionRefused`` and show the message as it
is. Role refusals are ``NotAllowed`` in every area (403 on the API)."""


class ActionRefused(Exception):
    """A refused change, in any area; the message is shown to the user as it is."""


class NotAllowed(ActionRefused):
    """The user's role or relation to the thing does not allow this change."""


class CaseActionError(ActionRefused):
    """A refused change to a call's case (its state, claim, notes, audio, priority, audit)."""
