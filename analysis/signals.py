"""What the analysis app announces (sent inside the transaction of the change)."""

from django.dispatch import Signal

#: An admin saved a new triage settings version (kwargs: settings). The open cases are re-scored
#: with it in the background (analysis.receivers), never inside the request.
triage_settings_saved = Signal()
