"""What the calls app announces, for the apps above it to act on (they connect in AppConfig.ready).

Each signal is sent inside the transaction of the change it announces, after the change and its
case event are written: a receiver's writes commit or roll back with it, and a receiver that
raises refuses the change. Work that must wait for the commit uses ``transaction.on_commit``.
"""

from django.dispatch import Signal

#: A case was created (kwargs: case). It has no audio yet.
case_created = Signal()

#: A recording was attached to a case (kwargs: case, recording).
recording_attached = Signal()

#: A recording was refused (kwargs: case, silent): ``silent`` when it held only silence.
audio_rejected = Signal()

#: A case was closed (kwargs: case, actor).
case_closed = Signal()
