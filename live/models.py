"""One row per live call's stream: where its audio is growing, and in which state the stream is."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from calls.models import Case, Recording


class Ingress(models.TextChoices):
    WEBSOCKET = "websocket", "WebSocket media stream"
    AUDIOSOCKET = "audiosocket", "Asterisk AudioSocket"
    DESK = "desk", "Operator's desk (browser microphone)"


class Encoding(models.TextChoices):
    MULAW = "mulaw", "8-bit mu-law (G.711)"
    L16 = "l16", "16-bit linear PCM"


class StreamState(models.TextChoices):
    ANNOUNCED = "announced", "Announced, no audio yet"
    STREAMING = "streaming", "Streaming"
    INTERRUPTED = "interrupted", "Interrupted (may reconnect)"
    ENDED = "ended", "Ended (hung up)"
    CUT_OFF = "cut_off", "Cut off (never reconnected)"


OPEN_STATES = (StreamState.ANNOUNCED, StreamState.STREAMING, StreamState.INTERRUPTED)
SAMPLE_RATES = (8000, 16000)


class LiveStream(models.Model):
    """The stream of one call. ``call_id`` is the phone system's own id (or the AudioSocket UUID, or
    the id a desk's page made up), unique per client (the intake client, or the operator at the desk);
    the audio grows, as 16-bit PCM at ``sample_rate``, in ``audio_name`` (a name in the default
    storage, on local disk) until the call ends and it becomes a Recording."""

    call_id = models.CharField(max_length=128)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="live_streams")
    # None for an AudioSocket call that arrived unannounced (the TCP socket carries no identity).
    client = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    ingress = models.CharField(max_length=16, choices=Ingress.choices)
    encoding = models.CharField(max_length=8, choices=Encoding.choices)
    sample_rate = models.PositiveIntegerField(choices=[(rate, f"{rate} Hz") for rate in SAMPLE_RATES])
    state = models.CharField(max_length=16, choices=StreamState.choices, default=StreamState.STREAMING,
                             db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    interrupted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    frames = models.PositiveBigIntegerField(default=0)
    bytes_received = models.PositiveBigIntegerField(default=0)
    audio_name = models.CharField(max_length=255, blank=True)
    recording = models.ForeignKey(Recording, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["client", "call_id"], name="one_stream_per_client_call")]

    def __str__(self) -> str:
        return f"Live stream {self.call_id} of case #{self.case_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES
