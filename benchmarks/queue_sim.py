"""How long each kind of call waits: the queue policy against first-come-first-served.

    .venv/bin/python benchmarks/queue_sim.py [--calls benchmarks/results/call_ranking.json]
                                             [--split heldout] [--seed 7]

Calls of the call-ranking benchmark (their kind and the base score the real pipeline gave them)
arrive at random (Poisson) with a realistic mix — most calls not genuine, as at Telangana's
Dial-100 (78 %) — and N operators answer them, each call taking a handling time of its kind. The
queue is ordered five ways on the same arrivals: first-come-first-served, by score alone, by due
time alone (a bound per band; the portal's order until 2026-12-06), by band then due time, and by
this portal's policy (CRITICAL, then HIGH, then NORMAL and LOW together, each by due time:
:mod:`core.triage.waiting`). For light, busy and
backlog loads (offered load = arrivals x mean handling time / operators; a backlog is above 1 for
an hour, then the line drains), it prints the waits of emergencies, routine calls and non-genuine
calls (p50 / p95 / max) and how many calls of each band were answered past its bound, and writes
``benchmarks/results/queue_sim.json``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.triage.config import BAND_NAMES, DEFAULT_CONFIG, TriageConfig, band_for  # noqa: E402
from core.triage.waiting import allowance, band_bounds, queue_key  # noqa: E402

#: Share of arrivals per kind: 78 % not genuine (blank, wrong number, enquiry, prank, abuse).
MIX = {"emergency": 0.12, "routine": 0.10, "non_emergency": 0.38, "prank": 0.20, "abusive": 0.05, "silent": 0.15}
#: Mean handling time in seconds per kind (exponential): a non-genuine call is dismissed quickly.
HANDLING = {"emergency": 150.0, "routine": 90.0, "non_emergency": 30.0, "prank": 25.0, "abusive": 25.0,
            "silent": 40.0}
GROUPS = {"emergency": ("emergency",), "routine": ("routine",), "non-genuine": ("non_emergency", "prank", "abusive"),
          "silent": ("silent",)}
LOADS = {"light": 0.5, "busy": 0.9, "backlog": 1.15}
OPERATORS = 6
ARRIVAL_WINDOW_S = 3600.0


@dataclass(frozen=True)
class Call:
    arrival: float
    kind: str
    base: float
    handling: float


def load_pool(path: Path, split: str) -> dict[str, list[float]]:
    """Base scores per kind from the call-ranking benchmark's results."""
    data = json.loads(path.read_text())
    pool: dict[str, list[float]] = {}
    for row in data["calls"]:
        if split != "all" and row["split"] != split:
            continue
        if row.get("base_score") is None:
            continue
        pool.setdefault(row["kind"], []).append(float(row["base_score"]))
    missing = [kind for kind in MIX if not pool.get(kind)]
    if missing:
        raise SystemExit(f"{path}: no scored calls of kind {', '.join(missing)} in split {split!r}")
    return pool


def arrivals(pool: dict[str, list[float]], load: float, seed: int) -> list[Call]:
    rng = random.Random(seed)
    mean_handling = sum(MIX[k] * HANDLING[k] for k in MIX)
    rate = load * OPERATORS / mean_handling  # calls per second
    kinds, weights = zip(*MIX.items(), strict=True)
    calls, t = [], 0.0
    while True:
        t += rng.expovariate(rate)
        if t > ARRIVAL_WINDOW_S:
            return calls
        kind = rng.choices(kinds, weights)[0]
        calls.append(Call(t, kind, rng.choice(pool[kind]), rng.expovariate(1.0 / HANDLING[kind])))


def simulate(calls: list[Call], key: Callable[[Call], tuple[float, ...]]) -> list[tuple[Call, float]]:
    """(call, wait) for every call; the free operator always takes the waiting call of smallest key."""
    free = [0.0] * OPERATORS
    heapq.heapify(free)
    waiting: list[tuple[tuple[float, ...], int, Call]] = []
    served: list[tuple[Call, float]] = []
    i = 0
    while i < len(calls) or waiting:
        now = heapq.heappop(free)
        if not waiting and calls[i].arrival > now:
            now = calls[i].arrival  # the operator waits for the next call
        while i < len(calls) and calls[i].arrival <= now:
            heapq.heappush(waiting, (key(calls[i]), i, calls[i]))
            i += 1
        _, _, call = heapq.heappop(waiting)
        served.append((call, now - call.arrival))
        heapq.heappush(free, now + call.handling)
    return served


PORTAL = "portal (tiers, due time)"


def policies(config: TriageConfig) -> dict[str, Callable[[Call], tuple[float, ...]]]:
    def due(c: Call) -> float:
        return c.arrival + allowance(c.base, config)

    return {
        "fcfs": lambda c: (c.arrival,),
        "score only": lambda c: (-c.base, c.arrival),
        "due time alone": lambda c: (due(c), c.arrival),  # the portal's order until 2026-12-06
        "band, then due": lambda c: (BAND_NAMES.index(band_for(c.base)), due(c), c.arrival),
        PORTAL: lambda c: (-queue_key(band_for(c.base), due(c)), c.arrival),
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else 0.0


def figures(served: list[tuple[Call, float]], config: TriageConfig) -> dict[str, dict[str, float]]:
    bounds = band_bounds(config)
    out: dict[str, dict[str, float]] = {}
    for group, kinds in GROUPS.items():
        waits = [w for c, w in served if c.kind in kinds]
        out[group] = {"calls": len(waits), "p50": round(_pct(waits, 50), 1), "p95": round(_pct(waits, 95), 1),
                      "max": round(max(waits, default=0.0), 1)}
    late = [(c, w) for c, w in served if w > bounds[band_for(c.base)]]
    out["past band bound"] = {"calls": len(late), "share": round(len(late) / max(1, len(served)), 4),
                              "emergencies": sum(1 for c, _ in late if c.kind == "emergency")}
    for band in BAND_NAMES:  # per band: how many were late, of how many, and the longest wait
        waits = [w for c, w in served if band_for(c.base) == band]
        out[band] = {"calls": len(waits), "late": sum(1 for w in waits if w > bounds[band]),
                     "max": round(max(waits, default=0.0), 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=Path, default=REPO / "benchmarks" / "results" / "call_ranking.json")
    parser.add_argument("--split", default="heldout", choices=["tuning", "heldout", "all"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5, help="independent days of arrivals per load")
    args = parser.parse_args()
    config = DEFAULT_CONFIG
    pool = load_pool(args.calls, args.split)
    results: dict[str, dict[str, object]] = {}
    print(f"{OPERATORS} operators, arrivals for {ARRIVAL_WINDOW_S / 60:.0f} min, mix {MIX}; bounds "
          + ", ".join(f"{band} {s:.0f} s" for band, s in band_bounds(config).items()))
    header = f"{'load':8} {'policy':24} " + " ".join(f"{g + ' p50/p95/max':>26}" for g in GROUPS) + "  past bound"
    print(header)
    for load_name, load in LOADS.items():
        results[load_name] = {"offered_load": load}
        for name, key in policies(config).items():
            served = [s for r in range(args.repeats) for s in simulate(arrivals(pool, load, args.seed + r), key)]
            figs = figures(served, config)
            results[load_name][name] = figs
            cells = " ".join(f"{figs[g]['p50']:>8.0f}/{figs[g]['p95']:>7.0f}/{figs[g]['max']:>7.0f} s" for g in GROUPS)
            late = figs["past band bound"]
            per_band = " ".join(f"{band[:4]} {figs[band]['late']}/{figs[band]['calls']}" for band in BAND_NAMES)
            print(f"{load_name:8} {name:24} {cells}  {late['calls']} ({late['share']:.1%}): {per_band}")
        fcfs, portal = results[load_name]["fcfs"], results[load_name][PORTAL]
        ratio = portal["emergency"]["p50"] / max(1e-9, fcfs["emergency"]["p50"])  # type: ignore[index]
        results[load_name]["emergency_p50_vs_fcfs"] = round(ratio, 3)
    from _django import write_results

    write_results("queue_sim", {"split": args.split, "operators": OPERATORS, "mix": MIX, "handling_s": HANDLING,
                                "arrival_window_s": ARRIVAL_WINDOW_S, "repeats": args.repeats,
                                "bounds_s": band_bounds(config), "loads": results})


if __name__ == "__main__":
    main()
