"""How long a call may wait: a bound per band, and the queue order that keeps the bounds.

Every call gets an *allowance* from its base score: the seconds it may wait before it must be
answered. The allowance falls as the score rises, band by band, scaled from the admin's
``max_wait_seconds`` (the bound of a HIGH call)::

    band       bound (x max_wait)   with the default 180 s
    critical   1/3                  1 min
    high       1                    3 min
    normal     4                    12 min
    low        10                   30 min

A call is *due* at ``received_at + allowance``, and the queue is ordered by due time, earliest
first (earliest deadline first). Among fresh calls that is the order of their scores. Waiting
moves every call up at the same pace, so a LOW call passes a fresh CRITICAL call only when its
own bound is closer than the critical call's: aging moves a call up band by band instead of
swamping every score after three minutes, and a backlog does not turn the queue into
first-come-first-served. When the operators keep up, every call is answered within its band's
bound; a call past its bound goes before every call that is not.

For SQL the order is one stored number per case, :func:`queue_key`: larger is sooner due. Plain
Python, no Django.
"""

from __future__ import annotations

import math

from core.triage.config import BANDS, SCORE_MAX, SCORE_MIN, TriageConfig, band_for, clamp, is_number

#: Each band's bound as a multiple of ``max_wait_seconds`` (the bound of a HIGH call).
BAND_WAIT_FACTORS: dict[str, float] = {"critical": 1 / 3, "high": 1.0, "normal": 4.0, "low": 10.0}
#: How much shorter than its band's bound the allowance of a call at the top of the band is: enough
#: to order fresh calls of one band by score, little enough to keep a backlog's deadlines loose.
WITHIN_BAND_SPREAD = 0.2


def band_bounds(config: TriageConfig) -> dict[str, float]:
    """Each band's longest wait in seconds, highest band first."""
    return {name: BAND_WAIT_FACTORS[name] * config.max_wait_seconds for name, _ in BANDS}


def allowance(base_score: float, config: TriageConfig) -> float:
    """Seconds a call of this base score may wait: its band's bound at the band's lowest score,
    down to (1 - WITHIN_BAND_SPREAD) of it at the band's top, so that among fresh calls of one
    band the higher score is due first, and a higher score is never allowed longer."""
    base = clamp(base_score if is_number(base_score) and math.isfinite(base_score) else SCORE_MAX,
                 SCORE_MIN, SCORE_MAX)
    top = SCORE_MAX
    for name, lowest in BANDS:  # highest band first
        if base >= lowest:
            position = (base - lowest) / (top - lowest) if top > lowest else 1.0
            return BAND_WAIT_FACTORS[name] * config.max_wait_seconds * (1.0 - WITHIN_BAND_SPREAD * position)
        top = lowest
    return BAND_WAIT_FACTORS[BANDS[-1][0]] * config.max_wait_seconds  # pragma: no cover - bands cover 0..100


def due_in(base_score: float, waiting_seconds: float, config: TriageConfig) -> float:
    """Seconds left before the call must be answered; negative once it is past its bound."""
    return allowance(base_score, config) - max(0.0, waiting_seconds)


def queue_key(base_score: float, received_epoch: float, config: TriageConfig) -> float:
    """The queue's sort key, larger first: minus the due time in epoch seconds."""
    return -(received_epoch + allowance(base_score, config))


def format_wait(seconds: float) -> str:
    """``190`` -> ``"3 min 10 s"``; ``45`` -> ``"45 s"``; ``3725`` -> ``"1 h 2 min"``."""
    total = int(max(0.0, seconds if is_number(seconds) and math.isfinite(seconds) else 0.0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def wait_reason(base_score: float, waiting_seconds: float, config: TriageConfig) -> str:
    """Where the wait puts the call, in words: ``waiting 1 min 10 s of the 3 min this HIGH call may wait``,
    or, once past the bound, ``waiting 4 min: past its 3 min bound, ahead of calls not yet due``."""
    waited = max(0.0, waiting_seconds if is_number(waiting_seconds) and math.isfinite(waiting_seconds) else 0.0)
    band = band_for(base_score)
    bound = allowance(base_score, config)
    if waited >= bound:
        return f"waiting {format_wait(waited)}: past its {format_wait(bound)} bound, ahead of calls not yet due"
    return f"waiting {format_wait(waited)} of the {format_wait(bound)} this {band.upper()} call may wait"
