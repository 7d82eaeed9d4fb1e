"""The benchmark's figures from per-call records (plain dicts; pure Python, no Django).

A record has at least: kind, split, condition, voice_family, score (the base priority, 0-100),
band, incident_true, incident_pred; optionally seconds, word_confidence, wer, voice_kind.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np

NON_GENUINE = ("non_emergency", "prank", "abusive")
HIGH_PLUS = ("critical", "high")
BANDS = ("critical", "high", "normal", "low")
UNSURE = 0.8  # core.text.analysis.UNSURE_WORD_CONFIDENCE, the line below which words count as unsure


def auc(positives: Iterable[float], negatives: Iterable[float]) -> float | None:
    """Probability that a positive scores above a negative (ties count a half); None if a side is empty."""
    pos, neg = np.asarray(list(positives), float), np.asarray(list(negatives), float)
    if not pos.size or not neg.size:
        return None
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def ranking(records: list[dict]) -> dict:
    """The headline figures of a group of calls."""
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_kind[r["kind"]].append(r)
    emergencies = by_kind["emergency"]
    non_genuine = [r for k in NON_GENUINE for r in by_kind[k]]
    routine = by_kind["routine"]
    score = [r["score"] for r in emergencies]
    typed = [r for r in emergencies if r.get("incident_true")]
    return {
        "calls": len(records),
        "auc_emergency_vs_non_genuine": auc(score, [r["score"] for r in non_genuine]),
        "auc_emergency_vs_routine": auc(score, [r["score"] for r in routine]),
        "emergencies": len(emergencies),
        "emergencies_at_low": sum(r["band"] == "low" for r in emergencies),
        "non_genuine": len(non_genuine),
        "non_genuine_high_plus": _share(sum(r["band"] in HIGH_PLUS for r in non_genuine), len(non_genuine)),
        "routine_high_plus": _share(sum(r["band"] in HIGH_PLUS for r in routine), len(routine)),
        "incident_accuracy": _share(sum(r.get("incident_pred") == r["incident_true"] for r in typed), len(typed)),
        "silent_bands": dict(Counter(r["band"] for r in by_kind["silent"])),
        "bands_by_kind": {k: {b: sum(r["band"] == b for r in v) for b in BANDS}
                          for k, v in sorted(by_kind.items()) if v},
        "mean_score_by_kind": {k: round(float(np.mean([r["score"] for r in v])), 2)
                               for k, v in sorted(by_kind.items()) if v},
    }


def grouped(records: list[dict], key: str) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[str(r.get(key))].append(r)
    return {name: ranking(group) for name, group in sorted(groups.items())}


def incident_confusion(records: list[dict]) -> dict[str, dict[str, int]]:
    """True incident type -> predicted type -> count, over emergencies."""
    table: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        if r["kind"] == "emergency" and r.get("incident_true"):
            table[r["incident_true"]][str(r.get("incident_pred"))] += 1
    return {k: dict(v) for k, v in sorted(table.items())}


def seconds(records: list[dict]) -> dict | None:
    values = [r["seconds"] for r in records if r.get("seconds") is not None]
    if not values:
        return None
    return {"calls": len(values), "mean": round(float(np.mean(values)), 3),
            "p50": round(float(np.percentile(values, 50)), 3), "p95": round(float(np.percentile(values, 95)), 3)}


def transcriber(records: list[dict], key: str = "voice_kind") -> dict[str, dict]:
    """How sure the transcriber was, per kind of voice: mean word confidence over calls with words,
    the share of calls under the 'unsure' line, calls with no words at all, and WER where known
    (records: word_confidence, wer, ref_words)."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        groups[str(r.get(key))].append(r)
    out = {}
    for name, group in sorted(groups.items()):
        with_words = [r["word_confidence"] for r in group if r.get("word_confidence") is not None]
        wers = [(r["wer"], r.get("ref_words") or 1) for r in group if r.get("wer") is not None]
        out[name] = {
            "calls": len(group),
            "no_words": sum(r.get("word_confidence") is None for r in group),
            "mean_word_confidence": round(float(np.mean(with_words)), 4) if with_words else None,
            "below_0_8": _share(sum(c < UNSURE for c in with_words), len(with_words)),
            # corpus WER: all errors over all reference words
            "wer": round(sum(w * n for w, n in wers) / sum(n for _, n in wers), 4) if wers else None,
        }
    return out
