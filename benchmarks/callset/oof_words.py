"""Out-of-fold words models for the call benchmark's tuning part.

The shipped words model was trained on the tuning part's own transcripts, so scoring the tuning
calls with it shows what it memorised (AUC 0.996 there against 0.84 on the held-out part), not how
the triage would rank calls it never saw. With ``call_ranking.py --rescore --split tuning
--oof-words`` each tuning call is read by a model trained without its script (five folds grouped
by script, the shipped recipe: benchmarks/train_words_model.py): the tuning figures a setting may
be chosen on. The held-out part is always read by the shipped model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FOLDS = 5


def fold_of(scripts: list[str], folds: int = FOLDS) -> dict[str, int]:
    """Each script's fold: scripts sorted, dealt round-robin (deterministic; a script's renderings
    and its written words always sit in one fold)."""
    return {script: i % folds for i, script in enumerate(sorted(set(scripts)))}


def training_rows(rows: list[dict], folds_of: dict[str, int], fold: int) -> list[dict]:
    """The rows a fold's model learns from: every script not in that fold."""
    return [r for r in rows if folds_of[r["script"]] != fold]


def out_of_fold_models(folds: int = FOLDS) -> Callable[[dict], Any]:
    """Train one words model per fold on the tuning part; return record -> the model that never saw
    that record's script (a script the models never learnt from, e.g. a silent call, gets fold 0's)."""
    from analysis.pipeline import words_model
    from benchmarks.train_words_model import LICENCE, rows
    from core.text.lexicon import incident_phrases, matcher_for
    from core.text.words_model import train_words_model

    shipped = words_model()
    if shipped is None:
        raise SystemExit("--oof-words: no words model is active (WORDS_MODEL_DIR)")
    tuning = rows("tuning")
    folds_of = fold_of([r["script"] for r in tuning], folds)
    phrases = incident_phrases(matcher_for(None).lexicon)
    models = []
    for fold in range(folds):
        part = training_rows(tuning, folds_of, fold)
        models.append(train_words_model(
            [r["text"] for r in part], [r["kind"] == "emergency" for r in part], [r["script"] for r in part],
            incident_types=[r["incident"] for r in part], incident_phrases=phrases,
            # the shipped model's trust, so that a fold's model moves a call as far as the shipped one
            metadata={"version": f"{shipped.version}-oof{fold}", "licence": LICENCE,
                      "reliability": shipped.metadata.get("reliability")}))
        print(f"  words model for fold {fold + 1}/{folds}: {len(part)} examples, C={models[-1].metadata['C']}",
              flush=True)
    return lambda record: models[folds_of.get(record.get("script_id", ""), 0)]
