"""Small probability helpers shared by the text analysis and the triage policy."""

from __future__ import annotations

from collections.abc import Iterable


def noisy_or(chances: Iterable[float]) -> float:
    """The chance that at least one of several independent causes fires.

    Each cue raises the result; none alone reaches 1 unless it is 1. Values are clamped to 0..1.
    """
    remaining = 1.0
    for chance in chances:
        remaining *= 1.0 - max(0.0, min(1.0, chance))
    return 1.0 - remaining
