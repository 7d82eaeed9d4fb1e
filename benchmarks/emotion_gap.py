"""Where the male/female gap in emotion accuracy comes from: a diagnostic, not a model.

Protocol B's folds (6 x 2 male + 2 female actors) with a second model family, an RBF SVM on
each clip's feature statistics (mean and std over frames of every column of the shipped
model's features, clean variant), its C chosen by grouped-by-actor CV on the training actors
only. Two feature treatments:

* ``plain``: the statistics as they are (what a deployed model sees);
* ``oracle-spknorm``: every actor's frames z-scored by that actor's own statistics over all
  their clips (emotion_cv.speaker_normalised): not deployable, it removes speaker offsets
  (voice register, vocal tract, level) as completely as any speaker normalisation could.

If a different model family shows the same female advantage, and removing speaker offsets
does not close it, the gap is in how the actors' emotions differ from one another, not in a
bias of the CNN. With --cnn TAG, per-actor accuracy is also compared with the CNN's protocol B
run stored in emotion_cv.json under B_TAG (Spearman rank correlation). For every model the
female-minus-male gap of the actors' mean accuracy gets a 95 % bootstrap interval (actors
resampled within gender) and a Mann-Whitney U test: how precisely 12 actors a side measure it.

    .venv/bin/python benchmarks/emotion_gap.py [--dataset DIR] [--model-dir DIR] [--cnn TAG ...]
Prints the figures and writes benchmarks/results/emotion_gap.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.emotion_cv import (  # noqa: E402
    DEFAULT_MODEL,
    RESULTS,
    actor_accuracy,
    dataset_features,
    load,
    mean_std,
    speaker_normalised,
    train_config_of,
)
from core.emotion.datasets import balanced_folds, default_ravdess_dir  # noqa: E402
from core.emotion.feature_sets import VARIANT_CLEAN, FeatureSet  # noqa: E402
from core.emotion.features import FeatureConfig  # noqa: E402

C_GRID = [1.0, 3.0, 10.0, 30.0]


def clip_statistics(fs: FeatureSet, n_clips: int) -> np.ndarray:
    """(n_clips, 2 * features): mean and std over the frames of each clip's clean windows."""
    idx = fs.select(np.arange(n_clips), [VARIANT_CLEAN])
    frames = fs.windows[idx].astype(np.float32)
    owner = fs.clip_index[idx]
    out = np.zeros((n_clips, 2 * frames.shape[-1]), dtype=np.float32)
    for c in range(n_clips):
        f = frames[owner == c].reshape(-1, frames.shape[-1])
        out[c] = np.concatenate([f.mean(axis=0), f.std(axis=0)])
    return out


def svm_fold(x: np.ndarray, y: np.ndarray, spk: np.ndarray, train: np.ndarray,
             test: np.ndarray) -> tuple[np.ndarray, float]:
    """Test-set predictions of an SVM whose C is picked by leave-actors-out CV on `train`."""
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    search = GridSearchCV(make_pipeline(StandardScaler(), SVC(kernel="rbf", gamma="scale")),
                          {"svc__C": C_GRID}, scoring="balanced_accuracy",
                          cv=GroupKFold(n_splits=5), n_jobs=1)
    search.fit(x[train], y[train], groups=spk[train])
    return search.predict(x[test]), float(search.best_params_["svc__C"])


def run(x: np.ndarray, y: np.ndarray, spk: np.ndarray, genders: np.ndarray,
        folds: list[list[str]]) -> dict:
    from sklearn.metrics import balanced_accuracy_score

    rows = []
    for k, fold in enumerate(folds):
        test = np.flatnonzero(np.isin(spk, fold))
        train = np.flatnonzero(~np.isin(spk, fold))
        pred, c = svm_fold(x, y, spk, train, test)
        ua = {g: balanced_accuracy_score(y[test][genders[test] == g],
                                         pred[genders[test] == g]) for g in ("male", "female")}
        rows.append({"fold": k, "test_actors": fold, "C": c,
                     "ua": balanced_accuracy_score(y[test], pred),
                     "male_ua": ua["male"], "female_ua": ua["female"],
                     "y": y[test].tolist(), "speakers": spk[test].tolist(),
                     "genders": genders[test].tolist(),
                     # one-hot "probabilities", so emotion_cv.actor_accuracy reads them
                     "clean_probabilities": np.eye(int(y.max()) + 1)[pred].tolist()})
        print(f"  fold {k} {fold}: C {c:g}  UA {rows[-1]['ua']:.3f}  male {ua['male']:.3f}  "
              f"female {ua['female']:.3f}", flush=True)
    gaps = [r["female_ua"] - r["male_ua"] for r in rows]
    summary = {
        "ua": mean_std([r["ua"] for r in rows]),
        "male_ua": mean_std([r["male_ua"] for r in rows]),
        "female_ua": mean_std([r["female_ua"] for r in rows]),
        "gender_gap_ua": mean_std(gaps),
        "per_actor_ua": actor_accuracy(rows),
    }
    for r in rows:
        for key in ("y", "speakers", "genders", "clean_probabilities"):
            del r[key]
    return {"summary": summary, "per_fold": rows}


def actor_gap(per_actor: dict[str, tuple[str, float]], n_boot: int = 10_000,
              seed: int = 0) -> dict:
    """Female minus male mean of per-actor accuracy, its 95 % bootstrap interval (actors
    resampled within gender) and a two-sided Mann-Whitney U test between the two groups."""
    from scipy.stats import mannwhitneyu

    ua = {g: np.array([v for gg, v in per_actor.values() if gg == g]) for g in ("female", "male")}
    rng = np.random.default_rng(seed)
    boot = (rng.choice(ua["female"], (n_boot, len(ua["female"]))).mean(axis=1)
            - rng.choice(ua["male"], (n_boot, len(ua["male"]))).mean(axis=1))
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"actors": {g: len(v) for g, v in ua.items()},
            "gap": round(float(ua["female"].mean() - ua["male"].mean()), 4),
            "ci95": [round(float(low), 4), round(float(high), 4)],
            "mann_whitney_p": round(float(mannwhitneyu(ua["female"], ua["male"]).pvalue), 4)}


def print_actor_gap(name: str, gap: dict) -> None:
    print(f"  {name}: actor-mean gap {100 * gap['gap']:+.1f} points, 95 % bootstrap interval "
          f"{100 * gap['ci95'][0]:+.1f} to {100 * gap['ci95'][1]:+.1f}, "
          f"Mann-Whitney p {gap['mann_whitney_p']:.3f}")


def cnn_per_actor(cnn_tag: str) -> dict | None:
    per_actor = load(RESULTS).get(f"B_{cnn_tag}", {}).get("summary", {}).get("per_actor_ua")
    if not per_actor:
        print(f"  no per-actor figures stored under B_{cnn_tag} in {RESULTS}")
    return per_actor


def spearman(per_actor: dict, other: dict) -> dict:
    from scipy.stats import spearmanr

    actors = sorted(set(other) & set(per_actor))
    rho, p = spearmanr([per_actor[a][1] for a in actors], [other[a][1] for a in actors])
    return {"actors": len(actors), "spearman": round(float(rho), 3), "p": round(float(p), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default=str(default_ravdess_dir()))
    ap.add_argument("--model-dir", default=str(DEFAULT_MODEL),
                    help="the model version whose feature settings are used")
    ap.add_argument("--cnn", action="append", default=[],
                    help="emotion_cv.json protocol B tag to correlate per-actor accuracy with")
    args = ap.parse_args()
    dataset = Path(args.dataset)
    meta = json.loads((Path(args.model_dir) / "metadata.json").read_text())
    config = FeatureConfig.from_dict(meta["feature_config"])
    clips, fs = dataset_features(dataset, config, train_config_of(meta, None, threads=1))
    labels = meta["labels"]
    y = np.array([labels.index(c.label) for c in clips])
    spk = np.array([c.speaker for c in clips])
    genders = np.array([c.gender for c in clips])
    folds = balanced_folds(clips, 6)
    out: dict = {"model_dir": str(args.model_dir), "c_grid": C_GRID}
    for name, feature_set in (("plain", fs), ("oracle-spknorm", speaker_normalised(fs, spk))):
        print(f"SVM on clip statistics, {name}:", flush=True)
        result = run(clip_statistics(feature_set, len(clips)), y, spk, genders, folds)
        s = result["summary"]
        print(f"SVM {name}: UA {s['ua']['mean']:.3f} +- {s['ua']['std']:.3f}  "
              f"male {s['male_ua']['mean']:.3f}  female {s['female_ua']['mean']:.3f}  "
              f"gap {100 * s['gender_gap_ua']['mean']:+.1f} +- "
              f"{100 * s['gender_gap_ua']['std']:.1f} points")
        print("  per actor UA (m/f): " + "  ".join(
            f"{a}{g[0]} {ua:.2f}" for a, (g, ua) in s["per_actor_ua"].items()))
        s["actor_gap"] = actor_gap(s["per_actor_ua"])
        print_actor_gap(f"SVM {name}", s["actor_gap"])
        for tag in args.cnn:
            if cnn := cnn_per_actor(tag):
                corr = spearman(s["per_actor_ua"], cnn)
                s.setdefault("per_actor_spearman_with_cnn", {})[tag] = corr
                print(f"  per-actor rank correlation with CNN B_{tag}: rho {corr['spearman']:+.2f}"
                      f" (p {corr['p']:.3f}, {corr['actors']} actors)")
        out[name] = result
    for tag in args.cnn:
        if cnn := cnn_per_actor(tag):
            out.setdefault("cnn_actor_gap", {})[tag] = actor_gap(cnn)
            print_actor_gap(f"CNN B_{tag}", out["cnn_actor_gap"][tag])
    path = ROOT / "benchmarks" / "results" / "emotion_gap.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
