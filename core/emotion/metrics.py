"""How well an emotion model does on held-out speakers: per class, per gender, distress AUC."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.emotion.feature_sets import FeatureSet

DISTRESS = ("angry", "fearful", "sad")
NON_DISTRESS = ("neutral", "calm", "happy")


def clip_probabilities(model_fn: Callable[[np.ndarray], np.ndarray], fs: FeatureSet, clip_ids: np.ndarray,
                       variant: int) -> np.ndarray:
    """Per-clip probabilities (mean over each clip's windows), rows in clip_ids order."""
    idx = fs.select(clip_ids, [variant])
    probs = model_fn(fs.windows[idx].astype(np.float32))
    owner = fs.clip_index[idx]
    out = np.zeros((len(clip_ids), probs.shape[1]), dtype=np.float64)
    pos = {c: i for i, c in enumerate(clip_ids)}
    counts = np.zeros(len(clip_ids))
    for p, c in zip(probs, owner, strict=True):
        out[pos[c]] += p
        counts[pos[c]] += 1
    return out / np.maximum(counts, 1)[:, None]


def evaluate(probs: np.ndarray, y: np.ndarray, labels: list[str],
             genders: Sequence[str] | np.ndarray | None = None) -> dict[str, Any]:
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
        recall_score,
        roc_auc_score,
    )

    pred = probs.argmax(axis=1)
    present = sorted(set(y.tolist()))
    ua = float(recall_score(y, pred, labels=present, average="macro", zero_division=0))
    wa = float(accuracy_score(y, pred))
    p, r, f, s = precision_recall_fscore_support(
        y, pred, labels=list(range(len(labels))), zero_division=0
    )
    result: dict[str, Any] = {
        "n": len(y),
        "unweighted_accuracy": round(ua, 4),
        "weighted_accuracy": round(wa, 4),
        "per_class": {
            lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                  "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "confusion": confusion_matrix(y, pred, labels=list(range(len(labels)))).tolist(),
    }
    if genders is not None:
        genders = np.asarray(genders)
        result["per_gender"] = {}
        for g in sorted(set(genders.tolist())):
            m = genders == g
            gp = [c for c in present if np.any(y[m] == c)]
            result["per_gender"][g] = {
                "n": int(m.sum()),
                "unweighted_accuracy": round(float(recall_score(
                    y[m], pred[m], labels=gp, average="macro", zero_division=0)), 4),
                "weighted_accuracy": round(float(accuracy_score(y[m], pred[m])), 4),
            }
    distress = [labels.index(lab) for lab in DISTRESS if lab in labels]
    calm = [labels.index(lab) for lab in NON_DISTRESS if lab in labels]
    if distress and calm:
        m = np.isin(y, distress + calm)
        target = np.isin(y[m], distress).astype(int)
        if 0 < target.sum() < len(target):
            score = probs[m][:, distress].sum(axis=1)
            result["distress_auc"] = round(float(roc_auc_score(target, score)), 4)
    return result


def format_report(name: str, metrics: dict[str, Any]) -> str:
    lines = [
        f"== {name}: n={metrics['n']}  UA={metrics['unweighted_accuracy']:.3f}  "
        f"WA={metrics['weighted_accuracy']:.3f}"
        + (f"  distress AUC={metrics['distress_auc']:.3f}" if "distress_auc" in metrics else "")
    ]
    lines.append(f"   {'label':<10} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}")
    for lab, m in metrics["per_class"].items():
        lines.append(f"   {lab:<10} {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} "
                     f"{m['support']:>4}")
    for g, m in metrics.get("per_gender", {}).items():
        lines.append(f"   gender {g:<7} n={m['n']:<4} UA={m['unweighted_accuracy']:.3f} "
                     f"WA={m['weighted_accuracy']:.3f}")
    return "\n".join(lines)


def save_confusion_png(path: Path, confusion: list[list[int]], labels: list[str], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.4, 5.6), dpi=100)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
