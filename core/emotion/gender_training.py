"""Training and measuring the voice-gender hint that ships with each emotion model version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.audio import load
from core.emotion.datasets import Clip
from core.emotion.feature_sets import VARIANT_CLEAN, FeatureSet
from core.emotion.gender import GenderModel, estimate_from_p_female, estimate_gender, gender_features


def _gender_xy(fs: FeatureSet, clip_ids: np.ndarray,
               variants: Sequence[int]) -> tuple[np.ndarray | None, np.ndarray]:

    wanted = set(int(i) for i in clip_ids)
    groups: dict[tuple[int, int], list[int]] = {}
    for row, (c, v) in enumerate(zip(fs.clip_index.tolist(), fs.variant.tolist(), strict=True)):
        if c in wanted and v in variants and fs.clips[c].gender in ("female", "male"):
            groups.setdefault((c, v), []).append(row)
    keys = sorted(groups)
    x = np.stack([gender_features(fs.windows[groups[k]]) for k in keys]) if keys else None
    y = np.array([fs.clips[c].gender == "female" for c, _ in keys], dtype=int)
    return x, y


def fit_gender_model(fs: FeatureSet, train_ids: np.ndarray, val_ids: np.ndarray,
                     n_variants: int) -> tuple[GenderModel, dict[str, Any]] | None:
    """Logistic regression on feature statistics (all training variants); C chosen on val."""
    from sklearn.linear_model import LogisticRegression


    x, y = _gender_xy(fs, train_ids, range(n_variants))
    if x is None or len(set(y.tolist())) < 2:
        return None
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = (x - mean) / scale
    best_c, best_acc = 0.1, -1.0
    xv, yv = _gender_xy(fs, val_ids, [VARIANT_CLEAN])
    if xv is not None and len(set(yv.tolist())) == 2:
        for c in (0.01, 0.1, 1.0):
            clf = LogisticRegression(C=c, max_iter=3000).fit(xs, y)
            acc = float(np.mean(clf.predict((xv - mean) / scale) == yv))
            if acc > best_acc:
                best_c, best_acc = c, acc
    clf = LogisticRegression(C=best_c, max_iter=3000).fit(xs, y)
    model = GenderModel(mean, scale, clf.coef_[0].astype(float), float(clf.intercept_[0]))
    return model, {"C": best_c, "val_accuracy": round(best_acc, 4) if best_acc >= 0 else None}


def gender_model_report(model: GenderModel, fs: FeatureSet, clip_ids: np.ndarray,
                        variant: int) -> dict[str, float | None]:

    x, y = _gender_xy(fs, clip_ids, [variant])
    if x is None:
        return {"n": 0}
    est = [estimate_from_p_female(model.p_female(row)) for row in x]
    truth = np.where(y == 1, "female", "male")
    out: dict[str, float | None] = {"n": len(est), "coverage": round(float(np.mean([e.label != "unknown"
                                                                                    for e in est])), 4)}
    for name, mask in (("all", np.ones(len(est), bool)), ("female", truth == "female"),
                       ("male", truth == "male")):
        decided = [(e.label, t) for e, t, m in zip(est, truth, mask, strict=True)
                   if m and e.label != "unknown"]
        out[f"accuracy_{name}"] = (round(float(np.mean([a == b for a, b in decided])), 4)
                                   if decided else None)
    return out


def gender_estimate_report(clips: Sequence[Clip]) -> dict[str, float]:
    """Accuracy of the pitch estimator (core.emotion.gender.estimate_gender without a model)."""

    known = [c for c in clips if c.gender in ("female", "male")]
    estimates = [estimate_gender(load(c.path)) for c in known]
    decided = [(e.label, c.gender) for e, c in zip(estimates, known, strict=True)
               if e.label != "unknown"]
    return {
        "n": len(known),
        "coverage": round(len(decided) / len(known), 4) if known else 0.0,
        "accuracy": round(float(np.mean([a == b for a, b in decided])), 4) if decided else 0.0,
    }
