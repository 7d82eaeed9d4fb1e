class CaseActionError(Exception):
    """A refused change; the message is shown to the user as it is."""


class NotAllowed(CaseActionError):
    """The user's role or relation to the case does not allow this change."""
