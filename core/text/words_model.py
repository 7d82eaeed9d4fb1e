"""A words model that learns: a small text classifier over the transcript, beside the lexicon.

The lexicon explains (its cues quote the words and their time); the model adds a calibrated
probability that the call is an emergency, learned from transcripts as the transcriber heard them
— its typical errors included ("leaving" for "bleeding") — and names the words that drove it.

* Features: TF-IDF of character n-grams within words (2–5, robust to misheard spellings) and of
  word unigrams and bigrams; a logistic regression, its strength chosen by cross-validation grouped
  by script (a script's renderings never sit on both sides of a fold).
* The artefact is plain JSON (vocabularies, idf weights, coefficients: no pickle), with its
  metadata: training data fingerprint and licence, figures on held-out scripts and voices.
Plain Python, no Django.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.contracts import field_values

ARTEFACT = "words_model.json"
FULL_TRUST_AUC = 0.9
#: The words that drove a prediction: at most this many, strongest first.
TOP_TERMS = 3


@dataclass(frozen=True)
class WordsModelReading:
    """The model's view of one transcript: P(emergency) and the words that moved it."""

    version: str
    p_emergency: float
    drivers: list[str] = field(default_factory=list)  # words that pushed towards its answer
    trust: float = 0.0  # how far the triage may follow it: from its held-out AUC (0 at chance)
    incident_type: str = ""  # its guess of the incident type, were it an emergency
    p_incident: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> WordsModelReading:
        return cls(**field_values(cls, data))


def _vectorizers() -> tuple[Any, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, lowercase=True)
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True,
                            token_pattern=r"(?u)\b\w+\b")
    return chars, words


class WordsModel:
    """A trained model: ``predict(text) -> WordsModelReading``."""

    def __init__(self, chars: Any, words: Any, coef: np.ndarray, intercept: float, metadata: dict[str, Any],
                 incident: tuple[list[str], np.ndarray, np.ndarray] | None = None):
        self.chars, self.words = chars, words
        self.coef, self.intercept = coef, intercept
        # incident types, coefficients (types x features), intercepts: a multinomial model
        self.incident = incident
        self.metadata = metadata
        self.version = str(metadata.get("version", "words"))
        self._names = np.array([f"c:{n}" for n in chars.get_feature_names_out()]
                               + [f"w:{n}" for n in words.get_feature_names_out()])

    def _features(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        return hstack([self.chars.transform(texts), self.words.transform(texts)]).tocsr()

    def predict(self, text: str) -> WordsModelReading:
        x = self._features([text or ""])
        margin = float((x @ self.coef)[0] + self.intercept)
        p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, margin))))
        contributions = x.multiply(self.coef).toarray().ravel()
        sign = 1.0 if p >= 0.5 else -1.0
        order = np.argsort(-sign * contributions)
        drivers: list[str] = []
        for i in order:
            if sign * contributions[i] <= 0 or len(drivers) >= TOP_TERMS:
                break
            name = str(self._names[i])
            if name.startswith("w:") and name[2:] not in drivers:
                drivers.append(name[2:])
        incident, p_incident = "", 0.0
        if self.incident is not None:
            types, coef, intercepts = self.incident
            logits = np.asarray(x @ coef.T).ravel() + intercepts
            probs = np.exp(logits - logits.max())
            probs /= probs.sum()
            best = int(np.argmax(probs))
            incident, p_incident = types[best], round(float(probs[best]), 4)
        return WordsModelReading(self.version, round(p, 4), drivers, self.trust, incident, p_incident)

    @property
    def trust(self) -> float:
        """0 at chance, 1 at a held-out AUC of FULL_TRUST_AUC or better (as the voice's)."""
        auc = (self.metadata.get("reliability") or {}).get("emergency_auc_heldout")
        if not isinstance(auc, (int, float)) or not math.isfinite(auc):
            return 0.0
        return round(max(0.0, min(1.0, (float(auc) - 0.5) / (FULL_TRUST_AUC - 0.5))), 4)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        state = {
            "chars": {"vocabulary": {k: int(v) for k, v in self.chars.vocabulary_.items()},
                      "idf": self.chars.idf_.round(6).tolist()},
            "words": {"vocabulary": {k: int(v) for k, v in self.words.vocabulary_.items()},
                      "idf": self.words.idf_.round(6).tolist()},
            "coef": self.coef.round(6).tolist(),
            "intercept": round(self.intercept, 6),
        }
        if self.incident is not None:
            types, coef, intercepts = self.incident
            state["incident"] = {"types": types, "coef": coef.round(6).tolist(), "intercept": intercepts.round(6).tolist()}
        text = json.dumps(state, sort_keys=True)
        (folder / ARTEFACT).write_text(text)
        metadata = {**self.metadata, "artefact": ARTEFACT,
                    "artefact_sha256": hashlib.sha256(text.encode()).hexdigest()}
        (folder / "metadata.json").write_text(json.dumps(metadata, indent=2))


def load_words_model(folder: Path) -> WordsModel:
    """Read a saved model back; its artefact must match the checksum its metadata recorded."""
    metadata = json.loads((folder / "metadata.json").read_text())
    text = (folder / metadata.get("artefact", ARTEFACT)).read_text()
    if hashlib.sha256(text.encode()).hexdigest() != metadata.get("artefact_sha256"):
        raise ValueError(f"{folder}: the words model's artefact does not match its recorded checksum")
    state = json.loads(text)
    chars, words = _vectorizers()
    for vectorizer, part in ((chars, state["chars"]), (words, state["words"])):
        vectorizer.vocabulary_ = part["vocabulary"]
        vectorizer.idf_ = np.asarray(part["idf"], dtype=np.float64)
    incident = None
    if "incident" in state:
        part = state["incident"]
        incident = (list(part["types"]), np.asarray(part["coef"], dtype=np.float64),
                    np.asarray(part["intercept"], dtype=np.float64))
    return WordsModel(chars, words, np.asarray(state["coef"], dtype=np.float64), float(state["intercept"]), metadata,
                      incident)


def train_words_model(texts: Sequence[str], emergency: Sequence[bool], groups: Sequence[str], *,
                      metadata: dict[str, Any], folds: int = 5,
                      incident_types: Sequence[str | None] | None = None,
                      incident_phrases: Sequence[tuple[str, str]] = ()) -> WordsModel:
    """Fit on transcripts labelled emergency / not; the regularisation strength is picked by
    cross-validation grouped by ``groups`` (the script each rendering came from).

    ``incident_phrases`` ((phrase, incident type), e.g. the lexicon's incident phrases) teach the
    incident head words the calls it learns from never used; they say nothing about whether a call is
    an emergency, so the emergency head never sees them."""
    from scipy.sparse import hstack, vstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_score

    chars, words = _vectorizers()
    phrases = [text for text, _ in incident_phrases]
    # the vocabulary and idf come from the calls alone: the phrases must not change how a call reads
    x = hstack([chars.fit_transform(texts), words.fit_transform(texts)]).tocsr()
    x_phrases = hstack([chars.transform(phrases), words.transform(phrases)]).tocsr() if phrases else x[:0]
    y = np.asarray(emergency, dtype=int)
    best_c, best_auc = 1.0, -1.0
    for c in (0.3, 1.0, 3.0, 10.0):
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        auc = float(np.mean(cross_val_score(model, x, y, groups=groups, cv=GroupKFold(folds), scoring="roc_auc")))
        if auc > best_auc:
            best_c, best_auc = c, auc
    model = LogisticRegression(C=best_c, max_iter=2000, class_weight="balanced").fit(x, y)
    incident = None
    if incident_types is not None:
        rows = [i for i, t in enumerate(incident_types) if t and emergency[i]]
        labels = [str(incident_types[i]) for i in rows] + [label for _, label in incident_phrases]
        types = sorted(set(labels))
        if len(types) >= 2:
            typed = LogisticRegression(C=best_c, max_iter=2000, class_weight="balanced").fit(
                vstack([x[rows], x_phrases]).tocsr(), labels)
            coef = typed.coef_ if len(types) > 2 else np.vstack([-typed.coef_[0], typed.coef_[0]])
            intercepts = typed.intercept_ if len(types) > 2 else np.array([-typed.intercept_[0], typed.intercept_[0]])
            incident = ([str(c) for c in typed.classes_], coef, intercepts)
    fingerprint = hashlib.sha256("\n".join(f"{g}\t{int(e)}\t{t}" for t, e, g in
                                           sorted(zip(texts, emergency, groups, strict=True))).encode()).hexdigest()
    meta = {**metadata, "kind": "words", "C": best_c, "inner_cv_auc": round(best_auc, 4),
            "training_examples": len(texts), "training_data_sha256": fingerprint,
            **({"incident_phrases": len(phrases)} if phrases else {})}
    return WordsModel(chars, words, model.coef_.ravel(), float(model.intercept_[0]), meta, incident)


NON_GENUINE_KINDS = ("non_emergency", "prank", "abusive")


def heldout_figures(model: WordsModel, examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A model's figures on held-out examples (dicts with text, kind, source, incident; source
    "written" for a script's own words, else a channel condition): ROC AUC of emergencies over
    non-genuine calls and over routine ones, and the incident type on emergencies, on heard words
    and on written words. The weaker heard-words AUC is the reliability its trust comes from."""
    from sklearn.metrics import roc_auc_score

    def auc(data: list[dict[str, Any]], negatives: tuple[str, ...]) -> float | None:
        chosen = [r for r in data if r["kind"] == "emergency" or r["kind"] in negatives]
        labels = [r["kind"] == "emergency" for r in chosen]
        if len(set(labels)) < 2:
            return None
        return round(float(roc_auc_score(labels, [model.predict(r["text"]).p_emergency for r in chosen])), 4)

    def incident(data: list[dict[str, Any]]) -> float | None:
        emergencies = [r for r in data if r["kind"] == "emergency"]
        if not emergencies:
            return None
        right = sum(1 for r in emergencies if model.predict(r["text"]).incident_type == r["incident"])
        return round(right / len(emergencies), 4)

    heard = [r for r in examples if r["source"] != "written"]
    written = [r for r in examples if r["source"] == "written"]
    return {
        "emergency_auc_heldout_vs_non_genuine": auc(heard, NON_GENUINE_KINDS),
        "emergency_auc_heldout_vs_routine": auc(heard, ("routine",)),
        "emergency_auc_heldout_written_vs_non_genuine": auc(written, NON_GENUINE_KINDS),
        "emergency_auc_heldout_written_vs_routine": auc(written, ("routine",)),
        "heldout_examples": len(examples),
        "incident_accuracy_heldout": incident(heard),
        "incident_accuracy_heldout_written": incident(written),
    }


def reliability_of(figures: dict[str, Any]) -> dict[str, float]:
    """The figure the triage's trust in a words model comes from: the weaker held-out AUC on heard words."""
    aucs = [figures.get("emergency_auc_heldout_vs_non_genuine"), figures.get("emergency_auc_heldout_vs_routine")]
    measured = [a for a in aucs if a is not None]
    return {"emergency_auc_heldout": min(measured)} if measured else {}
