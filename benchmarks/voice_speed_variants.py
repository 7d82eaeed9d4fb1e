"""Speed perturbation for the base-encoder voice head: which layers and which copies of the clips it learns from.

Every row is judged as ``voice_variants.py`` judges (the voice issue's protocol):

* **protocol B** on RAVDESS: 6 folds of 4 unheard actors; in each fold the regularisation C is chosen
  by speaker-grouped inner CV (4 folds) on the other 20 actors; UA clean and through the telephone
  channel, male/female, distress AUC;
* **EmoDB unseen**: C chosen by inner CV on all of RAVDESS, the head trained on all of it; distress
  AUC over all eight labels it answers with (as deployed: P(angry) + P(fearful) + P(sad)), clean,
  telephone, male/female; UA on the six shared labels.

The head always learns from the clean and telephone copies; a row adds speed-perturbed copies
(``core.augment.speed_perturb``: 0.9 and 1.1, or 0.85, 0.9, 1.1 and 1.15 times as fast), clean only
or clean and through the telephone channel. The last row adapts to its deployment (v5's recipe): each
copy standardised by its own statistics in training, each judged clip by those of the clips judged
beside it (``core.emotion.encoder_training``, ``adapt``). Embeddings come from
``core.emotion.encoder_training.dataset_embeddings`` (cached: EMOTION_FEATURE_CACHE).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/voice_speed_variants.py [--rows 'NAME;NAME']

Writes benchmarks/results/voice_speed_variants.json. Each row takes 10 to 20 minutes on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "voice_speed_variants.json"
LABELS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
SHARED = ["neutral", "happy", "sad", "angry", "fearful", "disgust"]
C_OPTIONS = (0.003, 0.01, 0.03)
SPEEDS_2 = ("speed 0.9", "speed 1.1")
SPEEDS_4 = ("speed 0.85", "speed 0.9", "speed 1.1", "speed 1.15")
#: name -> (layers, the copies learnt from besides clean and telephone)
ROWS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "v3: layers 1+2, clean + telephone": ((1, 2), ()),
    "layers 0+1 (two blocks)": ((0, 1), ()),
    "layers 0+1+2": ((0, 1, 2), ()),
    "layers 1+2, speed 0.9/1.1": ((1, 2), SPEEDS_2),
    "layers 1+2, speed 0.9/1.1, clean and telephone": ((1, 2), SPEEDS_2 + tuple(f"telephone {s}" for s in SPEEDS_2)),
    "layers 1+2, speed x4, clean and telephone": ((1, 2), SPEEDS_4 + tuple(f"telephone {s}" for s in SPEEDS_4)),
    "layers 0+1+2, speed 0.9/1.1, clean and telephone": ((0, 1, 2), SPEEDS_2 + tuple(f"telephone {s}" for s in SPEEDS_2)),
    "layers 0+1+2, speed x4": ((0, 1, 2), SPEEDS_4),
    "v4: layers 0+1+2, speed x4, clean and telephone": ((0, 1, 2), SPEEDS_4 + tuple(f"telephone {s}" for s in SPEEDS_4)),
    "v5: v4's recipe, adapting to its deployment": ((0, 1, 2), SPEEDS_4 + tuple(f"telephone {s}" for s in SPEEDS_4)),
}
ADAPTING = {"v5: v4's recipe, adapting to its deployment"}


def judge(ravdess: dict, emodb: dict, layers: Sequence[int], copies: Sequence[int], adapt: bool = False) -> dict:
    """copies: indices into the RAVDESS embeddings' variants the head learns from (0 and 1 always),
    trained and judged by core.emotion.encoder_training, as the train command does."""
    from core.emotion.datasets import balanced_folds
    from core.emotion.encoder_training import (
        CLEAN,
        TELEPHONE,
        HeadSearch,
        choose_settings,
        head_metrics,
        train_head,
    )

    emb, ry, rs, rg = ravdess["emb"][:, list(copies)], ravdess["y"], ravdess["speakers"], list(ravdess["genders"])
    search = HeadSearch(layer_options=(tuple(layers),), c_options=C_OPTIONS, inner_folds=4, adapt=adapt)

    def trained(ids: np.ndarray):
        _, c, _ = choose_settings(emb, ry, rs, ids, LABELS, search)
        return train_head(emb, ry, ids, LABELS, layers, c, adapt=adapt), c

    per_fold: dict[str, list[float]] = {"ua": [], "telephone_ua": [], "distress_auc": [], "male": [], "female": []}
    for test_actors in balanced_folds(ravdess["clips"], 6):
        test = np.flatnonzero(np.isin(rs, test_actors))
        head, _ = trained(np.flatnonzero(~np.isin(rs, test_actors)))
        clean = head_metrics(head, emb, ry, test, LABELS, rg, CLEAN)
        per_fold["ua"].append(clean["unweighted_accuracy"])
        per_fold["telephone_ua"].append(head_metrics(head, emb, ry, test, LABELS, rg, TELEPHONE)["unweighted_accuracy"])
        per_fold["distress_auc"].append(clean["distress_auc"])
        for gender in ("male", "female"):
            per_fold[gender].append(clean["per_gender"][gender]["unweighted_accuracy"])
    b = {k: round(float(np.mean(v)), 4) for k, v in per_fold.items()}
    b["telephone_drop"] = round(b["ua"] - b["telephone_ua"], 4)
    head, c = trained(np.arange(len(ry)))
    e_emb, ey, eg = emodb["emb"], emodb["y"], emodb["genders"]
    everyone = np.arange(len(ey))
    e: dict = {"c": c, "ua_shared": head_metrics(head, e_emb, ey, everyone, LABELS, list(eg), CLEAN,
                                                   only_labels=SHARED)["unweighted_accuracy"]}
    for name, variant in (("distress_auc", CLEAN), ("distress_auc_telephone", TELEPHONE)):
        e[name] = head_metrics(head, e_emb, ey, everyone, LABELS, list(eg), variant)["distress_auc"]
    for gender in ("male", "female"):
        mine = np.flatnonzero(eg == gender)
        e[f"distress_auc_{gender}"] = head_metrics(head, e_emb, ey, mine, LABELS, list(eg), CLEAN)["distress_auc"]
    return {"protocol_b": b, "emodb_unseen": e}


def _corpus(clips, folder: Path, encoder, variants: Sequence[str], n_layers: int) -> dict:
    from core.emotion.datasets import fingerprint
    from core.emotion.encoder_training import dataset_embeddings

    emb = dataset_embeddings(clips, encoder, fingerprint=fingerprint(clips, folder), variants=variants,
                             n_layers=n_layers)
    return {"clips": clips, "emb": emb, "y": np.array([LABELS.index(c.label) for c in clips]),
            "speakers": np.array([c.speaker for c in clips]), "genders": np.array([c.gender for c in clips])}


def main() -> None:
    from core.emotion.datasets import default_emodb_dir, default_ravdess_dir, read_dataset, read_manifest
    from core.emotion.encoder_training import PLAIN_VARIANTS, SPEED_VARIANTS
    from core.emotion.whisper_encoder import BASE, load_named_encoder

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default=";".join(ROWS), help="row names separated by ';' (default: all)")
    args = ap.parse_args()
    chosen = [name.strip() for name in args.rows.split(";") if name.strip()]
    unknown = [name for name in chosen if name not in ROWS]
    if unknown:
        raise SystemExit(f"unknown rows: {unknown}; known: {list(ROWS)}")
    ravdess_dir, emodb_dir = default_ravdess_dir(), default_emodb_dir()
    if ravdess_dir is None or emodb_dir is None:
        raise SystemExit("needs ../shared/data/ravdess and ../shared/data/emodb (or RAVDESS_DIR, EMODB_DIR)")
    encoder = load_named_encoder(BASE)
    ravdess = _corpus(read_dataset(ravdess_dir), ravdess_dir, encoder, SPEED_VARIANTS, 3)
    emodb_clips = [c for c in read_manifest(emodb_dir / "metadata.csv", label_column="emotion", scheme="emodb")
                   if c.label in SHARED]
    emodb = _corpus(emodb_clips, emodb_dir, encoder, PLAIN_VARIANTS, 3)
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for name in chosen:
        layers, extra = ROWS[name]
        copies = [0, 1] + [SPEED_VARIANTS.index(v) for v in extra]
        results[name] = {"layers": list(layers), "learnt_from": ["clean", "telephone", *extra],
                         **judge(ravdess, emodb, layers, copies, adapt=name in ADAPTING)}
        b, e = results[name]["protocol_b"], results[name]["emodb_unseen"]
        print(f"{name}: B UA {b['ua']} (telephone drop {b['telephone_drop']}, m/f {b['male']}/{b['female']}, "
              f"AUC {b['distress_auc']}); EmoDB AUC {e['distress_auc']} (tel {e['distress_auc_telephone']}, "
              f"m/f {e['distress_auc_male']}/{e['distress_auc_female']}), UA {e['ua_shared']}", flush=True)
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
