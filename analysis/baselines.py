"""Each adapting voice model's baseline of this deployment's calls: read it, learn from a call.

A version that adapts (core.emotion.voice_baseline) standardises every call by what the recent
calls sounded like to it. The baseline learns only from finished calls' recordings, one embedding
per call (a live call's sliding windows read it but never teach it: one long call would otherwise
weigh as much as dozens), and a challenger learns its own from the calls it shadows, so it is warm
when an admin promotes it.
"""

from __future__ import annotations

import numpy as np
from django.db import IntegrityError, transaction

from core.emotion.voice_baseline import VoiceBaseline as Baseline

from .models import VoiceBaseline


def voice_baseline(version: str) -> Baseline | None:
    """The deployment's baseline for `version`, or None before its first call."""
    row = VoiceBaseline.objects.filter(version=version).first()
    return Baseline.from_bytes(row.calls, bytes(row.moments)) if row is not None and row.calls else None


def voice_baseline_learn(*, version: str, embedding: np.ndarray) -> Baseline:
    """Add one finished call's embedding to `version`'s baseline (under the row's lock)."""
    for _attempt in range(2):  # two workers may create the first row at once: the loser learns after
        try:
            with transaction.atomic():
                row = VoiceBaseline.objects.select_for_update().filter(version=version).first()
                if row is None or not row.calls:
                    learnt = Baseline.first(embedding)
                    row = row or VoiceBaseline(version=version)
                else:
                    learnt = Baseline.from_bytes(row.calls, bytes(row.moments)).learnt(embedding)
                row.calls, row.moments = learnt.calls, learnt.to_bytes()
                row.save()
                return learnt
        except IntegrityError:
            continue
    raise RuntimeError(f"the voice baseline of {version} could not be written")
