"""Readable tables of the call-ranking benchmark's figures."""

from __future__ import annotations


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _bands(bands: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(bands.items())) or "-"


def headline_rows(f: dict) -> list[tuple[str, str]]:
    return [
        ("calls", str(f["calls"])),
        ("AUC emergency vs non-genuine", _num(f["auc_emergency_vs_non_genuine"])),
        ("AUC emergency vs routine", _num(f["auc_emergency_vs_routine"])),
        ("emergencies at LOW", f"{f['emergencies_at_low']}/{f['emergencies']}"),
        ("non-genuine at HIGH+", _pct(f["non_genuine_high_plus"])),
        ("routine at HIGH+", _pct(f["routine_high_plus"])),
        ("incident right (emergencies)", _pct(f["incident_accuracy"])),
        ("silent calls' bands", _bands(f["silent_bands"])),
    ]


def table(title: str, columns: dict[str, dict]) -> str:
    """Rows: the headline figures; one column per group (e.g. held-out, tuning)."""
    names = list(columns)
    rows = [headline_rows(columns[n]) for n in names]
    width = max(12, *(len(v) for r in rows for _, v in r)) + 2
    lines = [title, f"{'':<32}" + "".join(f"{n:>{width}}" for n in names)]
    for i, (label, _) in enumerate(rows[0]):
        lines.append(f"{label:<32}" + "".join(f"{r[i][1]:>{width}}" for r in rows))
    return "\n".join(lines)


def compact(title: str, groups: dict[str, dict]) -> str:
    """One row per group: calls, both AUCs, emergencies at LOW, non-genuine and routine at HIGH+, incident."""
    lines = [title, f"{'':<22}{'calls':>6}{'AUC e/ng':>10}{'AUC e/r':>9}{'E@LOW':>8}{'NG@H+':>8}{'R@H+':>7}{'incid':>7}"]
    for name, f in groups.items():
        lines.append(f"{name:<22}{f['calls']:>6}{_num(f['auc_emergency_vs_non_genuine']):>10}"
                     f"{_num(f['auc_emergency_vs_routine']):>9}{f['emergencies_at_low']:>4}/{f['emergencies']:<3}"
                     f"{_pct(f['non_genuine_high_plus']):>8}{_pct(f['routine_high_plus']):>7}"
                     f"{_pct(f['incident_accuracy']):>7}")
    return "\n".join(lines)


def bands_by_kind(title: str, f: dict) -> str:
    lines = [title, f"{'':<16}{'critical':>9}{'high':>6}{'normal':>8}{'low':>5}{'mean score':>12}"]
    for kind, bands in f["bands_by_kind"].items():
        lines.append(f"{kind:<16}{bands['critical']:>9}{bands['high']:>6}{bands['normal']:>8}{bands['low']:>5}"
                     f"{f['mean_score_by_kind'][kind]:>12.1f}")
    return "\n".join(lines)


def transcriber_table(title: str, groups: dict[str, dict]) -> str:
    lines = [title, f"{'':<28}{'calls':>6}{'no words':>10}{'mean conf':>11}{'conf<0.8':>10}{'WER':>7}"]
    for name, g in groups.items():
        lines.append(f"{name:<28}{g['calls']:>6}{g['no_words']:>10}{_num(g['mean_word_confidence']):>11}"
                     f"{_pct(g['below_0_8']):>10}{_pct(g['wer']):>7}")
    return "\n".join(lines)
