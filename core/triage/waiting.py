"""How long a call may wait: a bound per band, and the queue order that keeps the bounds.

Every call gets an *allowance* from its base score: the seconds it may wait before it must be
answered. The allowance falls as the score rises, band by band, scaled from the admin's
``max_wait_seconds`` (the bound of a HIGH call)::

    band       bound (x max_wait)   with the default 180 s
    critical   1/3                  1 min
    high       1                    3 min
    normal     4                    12 min
    low        10                   30 min

A call is *due* at ``received_at + allowance``. The queue answers CRITICAL calls first, then HIGH
calls, then NORMAL and LOW calls together, each *tier* earliest due first (:data:`QUEUE_TIERS`):

- among fresh calls of a tier that is the order of their scores, and a call past its bound goes
  ahead of every call of its tier that is not;
- a LOW call moves up as it waits: it passes the NORMAL calls due after it (a NORMAL call received
  more than 18 minutes after it, at the defaults), and past its own bound it goes ahead of every
  NORMAL call not yet due;
- no call ever goes ahead of a CRITICAL or HIGH call of a higher tier, however long it waits: when
  more calls arrive than the operators can answer, the NORMAL and LOW calls wait longest instead of
  every call running late together, as when every call was answered by due time alone
  (benchmarks/queue_sim.py, and the figures at :data:`QUEUE_TIERS`).

For SQL the order is one stored number per case, :func:`queue_key`: larger first. It does not
change as time passes, so a stored order, an index and an API cursor stay right. Plain Python, no
Django.
"""

from __future__ import annotations

import math

from core.triage.config import BANDS, SCORE_MAX, SCORE_MIN, TriageConfig, band_for, clamp, is_number

#: Each band's bound as a multiple of ``max_wait_seconds`` (the bound of a HIGH call).
BAND_WAIT_FACTORS: dict[str, float] = {"critical": 1 / 3, "high": 1.0, "normal": 4.0, "low": 10.0}
#: Each band's tier: lower first. NORMAL and LOW share one, ordered by due time. Chosen on the call
#: benchmark's tuning calls at a backlog (6 operators, an hour at 1.15 times their capacity; late =
#: past the band's bound): CRITICAL 7 of 197 late, HIGH 11 of 517, NORMAL 466 of 1434, LOW 66 of
#: 273, against 45, 122, 388, 47 with every band in one tier (due time alone), 7, 10, 361, 124 (and a
#: LOW call waiting up to an hour) with a tier per band, and 24, 98, 412, 84 when a call past its
#: bound climbed a band per bound. When busy but keeping up, no NORMAL or LOW call was late.
QUEUE_TIERS: dict[str, int] = {"critical": 0, "high": 1, "normal": 2, "low": 2}
_TIER_APART_SECONDS = 1e10
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


def queue_key(band: str, due_epoch: float) -> float:
    """The queue's sort key, larger first: minus the due time in epoch seconds, a tier's worth lower
    per tier (tiers are 1e10 s apart, far more than any epoch, so a higher tier always comes first)."""
    return -due_epoch - QUEUE_TIERS[band] * _TIER_APART_SECONDS


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
    or, once past the bound, ``waiting 4 min: past its 3 min bound, ahead of the HIGH calls not yet due``
    (a NORMAL or LOW call: ``... ahead of the NORMAL and LOW calls not yet due``)."""
    waited = max(0.0, waiting_seconds if is_number(waiting_seconds) and math.isfinite(waiting_seconds) else 0.0)
    band = band_for(base_score)
    bound = allowance(base_score, config)
    if waited >= bound:
        tier = " and ".join(name.upper() for name, _ in BANDS if QUEUE_TIERS[name] == QUEUE_TIERS[band])
        return f"waiting {format_wait(waited)}: past its {format_wait(bound)} bound, ahead of the {tier} calls not yet due"
    return f"waiting {format_wait(waited)} of the {format_wait(bound)} this {band.upper()} call may wait"
