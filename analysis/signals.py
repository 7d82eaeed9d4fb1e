"""What the analysis app announces (sent inside the transaction of the change)."""

from django.dispatch import Signal

#: An admin saved a new triage settings version (kwargs: settings). The open cases are re-scored
#: with it in the background (analysis.receivers), never inside the request.
triage_settings_saved = Signal()

#: An admin asked for a recording's voice to be analysed again (kwargs: recording_id): its emotion
#: step was reset; the job runs in the background after the commit (analysis.receivers).
emotion_step_reset = Signal()

#: The supervisors' audits changed how far a model version (its voice, or a words model) is trusted
#: (kwargs: model_version): the open cases are re-scored in the background (analysis.receivers).
model_trust_changed = Signal()
