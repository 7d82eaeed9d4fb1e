"""Scoring the text analysis against a labelled utterance table (tests/fixtures/utterances.csv)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.text.analysis import TextAnalysis

TABLE_FIELDS = ("incident_type", "department", "prank", "abusive", "location")


def predicted_fields(analysis: TextAnalysis, prank_threshold: float = 0.5) -> dict[str, str]:
    """The values an utterance table (tests/fixtures/utterances.csv) records, as strings."""
    return {
        "incident_type": analysis.incident_type,
        "department": analysis.department,
        "prank": str(int(analysis.prank_likelihood >= prank_threshold)),
        "abusive": str(int(analysis.abusive)),
        "location": str(int(analysis.location_mentioned)),
    }


def field_metrics(expected: Sequence[Mapping[str, object]],
                  predicted: Sequence[Mapping[str, object]]) -> dict[str, dict[str, float]]:
    """Per field: accuracy, and precision/recall (binary fields: of the positive class '1';
    incident type and department: macro average over the classes that occur, 'other' for the
    incident type excluded since it means 'nothing found')."""
    out = {}
    for name in TABLE_FIELDS:
        exp = [str(r[name]) for r in expected]
        got = [str(p[name]) for p in predicted]
        if name in ("prank", "abusive", "location"):
            classes = ["1"]
        else:
            classes = sorted(set(exp) - {"other"})
        precisions, recalls = [], []
        for c in classes:
            tp = sum(e == c and g == c for e, g in zip(exp, got, strict=True))
            fp = sum(e != c and g == c for e, g in zip(exp, got, strict=True))
            fn = sum(e == c and g != c for e, g in zip(exp, got, strict=True))
            precisions.append(tp / (tp + fp) if tp + fp else 0.0)
            recalls.append(tp / (tp + fn) if tp + fn else 0.0)
        out[name] = {
            "accuracy": round(sum(e == g for e, g in zip(exp, got, strict=True)) / max(1, len(exp)), 4),
            "precision": round(sum(precisions) / max(1, len(precisions)), 4),
            "recall": round(sum(recalls) / max(1, len(recalls)), 4),
            "n": len(exp),
        }
    return out
