"""What the caller's words say: plain Python, no Django.

``analyse(transcript)`` finds the incident type and the department to route to, severity cues,
abusive language, hoax/prank cues and whether a location was given, in English, romanised
Hindi/Hinglish and Devanagari. Every finding carries the words it matched and, when the
transcript has word timings, their time in the call.

Phrases are matched fuzzily (rapidfuzz Levenshtein distance on whole words, the allowed number
of edits growing with the phrase's length), so recognition errors such as "bachaao" for
"bachao" or "can not" for "cannot" still match; short words must match exactly.

The phrase lists are data files in ``analysis/lexicons`` (JSON); an admin extends them by
putting files of the same names (JSON or YAML) in an extra folder, whose entries are added
to the built-in ones. A malformed file raises ``LexiconError`` naming the file and the fault.

No transcript (or an empty one) means the words are *unknown*: ``known`` is False, and the
severity is ``UNKNOWN_SEVERITY`` rather than zero, so that missing words never look harmless.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

if TYPE_CHECKING:  # pragma: no cover
    from core.speech.transcribe import Transcript

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
LEXICON_FILES = ("incidents", "severity", "hoax", "abusive", "locations")
DEPARTMENTS = ("health", "fire", "police", "women_help")
INCIDENT_TYPES = ("medical", "fire", "crime", "women_safety", "road_accident", "other")
UNKNOWN_SEVERITY = 0.5  # words unknown: neither harmless nor proven critical
KINDS = ("incident", "severity", "abusive", "hoax", "location")


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and the fault."""


@dataclass
class Finding:
    kind: str  # 'incident' | 'severity' | 'abusive' | 'hoax' | 'location'
    label: str  # incident type, cue name, 'abusive' or 'location'
    matched: str  # the words as they were in the transcript
    start: float | None  # seconds into the call, None for plain text
    end: float | None
    score: float  # 0..1: how well the words matched times how sure the recogniser was
    phrase: str = ""  # the lexicon phrase that matched

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TextAnalysis:
    incident_type: str = "other"
    department: str = "police"
    findings: list[Finding] = field(default_factory=list)
    severity: float = 0.0
    prank_likelihood: float = 0.0
    abusive: bool = False
    location_mentioned: bool = False
    known: bool = True  # False: no words to analyse (transcription unavailable or empty)
    missing: list[str] = field(default_factory=list)  # essentials not given: 'location', ...
    incident_scores: dict[str, float] = field(default_factory=dict)
    text: str = ""

    def by_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def reasons(self) -> list[str]:
        """One human-readable line per finding, e.g. 'fire: "aag lagi hai" at 3.2 s'."""
        lines = []
        for f in self.findings:
            when = f" at {f.start:.1f} s" if f.start is not None else ""
            lines.append(f'{f.kind} {f.label}: "{f.matched}"{when}')
        if not self.known:
            lines.append("words unknown: no transcript")
        for item in self.missing:
            lines.append(f"missing: no {item} given")
        return lines

    def to_dict(self) -> dict:
        data = asdict(self)
        data["reasons"] = self.reasons()
        return data


# ----------------------------------------------------------------------------- normalising

_APOSTROPHES = str.maketrans({"'": "", "\u2019": "", "\u2018": "", "`": ""})
# Devanagari spelling variants that recognisers and typists mix: nukta dropped, chandrabindu
# written as anusvara.
_DEVANAGARI = str.maketrans({"\u093c": None, "\u0901": "\u0902"})


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = unicodedata.normalize("NFD", text).translate(_DEVANAGARI)
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        out.append(ch if cat[0] in "LMN" else " ")
    return " ".join("".join(out).split())


def tokens_of(text: str) -> list[str]:
    return normalise_text(text).split()


def allowed_edits(phrase: str, strict: bool = False) -> int:
    """Edits tolerated for a normalised phrase: short words must match exactly."""
    n = len(phrase)
    if strict:
        return 0 if n <= 6 else 1 if n <= 12 else 2
    return 0 if n <= 5 else 1 if n <= 9 else 2 if n <= 15 else 3


# ------------------------------------------------------------------------------- lexicons


@dataclass
class _Entry:
    kind: str
    label: str
    phrase: str  # normalised
    weight: float
    strict: bool = False


@dataclass
class Lexicon:
    entries: list[_Entry]
    departments: dict[str, str]  # incident type -> department
    default_type: str = "other"
    default_department: str = "police"
    sources: list[str] = field(default_factory=list)


def _read_file(path: Path) -> object:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LexiconError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise LexiconError(f"{path}: cannot be read ({exc.strerror})") from exc
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover
            raise LexiconError(f"{path}: YAML lexicons need PyYAML installed") from exc
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise LexiconError(f"{path}: invalid YAML: {exc}") from exc
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LexiconError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc


def _phrases(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise LexiconError(f"{where}: 'phrases' must be a non-empty list of strings")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not normalise_text(item):
            raise LexiconError(f"{where}: phrase #{i + 1} ({item!r}) is not a non-empty string")
        out.append(normalise_text(item))
    return out


def _weight(value: object, where: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LexiconError(f"{where}: 'weight' must be a number, not {value!r}")
    if not 0 < float(value) <= 2:
        raise LexiconError(f"{where}: 'weight' must be in (0, 2], not {value!r}")
    return float(value)


def _require_dict(data: object, where: str, key: str | None = None) -> dict:
    if not isinstance(data, dict):
        what = f"'{key}'" if key else "the top level"
        raise LexiconError(f"{where}: {what} must be an object (mapping)")
    return data


def _parse(name: str, data: object, path: Path, lex: Lexicon) -> None:
    where = str(path)
    data = _require_dict(data, where)
    if name == "incidents":
        cats = _require_dict(data.get("categories"), where, "categories")
        default = data.get("default")
        if default is not None:
            default = _require_dict(default, where, "default")
            lex.default_type = str(default.get("incident_type", lex.default_type))
            dept = default.get("department", lex.default_department)
            if dept not in DEPARTMENTS:
                raise LexiconError(f"{where}: default department {dept!r} is not one of "
                                   f"{', '.join(DEPARTMENTS)}")
            lex.default_department = dept
        for label, body in cats.items():
            w = f"{where}: category {label!r}"
            body = _require_dict(body, w)
            dept = body.get("department", lex.departments.get(label))
            if dept not in DEPARTMENTS:
                raise LexiconError(f"{w}: 'department' must be one of {', '.join(DEPARTMENTS)}, "
                                   f"not {dept!r}")
            lex.departments[label] = dept
            weight = _weight(body.get("weight"), w, 1.0)
            for p in _phrases(body.get("phrases"), w):
                lex.entries.append(_Entry("incident", label, p, weight))
    elif name in ("severity", "hoax"):
        kind = name if name == "hoax" else "severity"
        cues = _require_dict(data.get("cues"), where, "cues")
        for label, body in cues.items():
            w = f"{where}: cue {label!r}"
            body = _require_dict(body, w)
            weight = _weight(body.get("weight"), w, 0.5)
            if weight > 1:
                raise LexiconError(f"{w}: 'weight' must be in (0, 1], not {weight!r}")
            for p in _phrases(body.get("phrases"), w):
                lex.entries.append(_Entry(kind, label, p, weight))
    elif name == "abusive":
        for p in _phrases(data.get("phrases"), where):
            lex.entries.append(_Entry("abusive", "abusive", p, 1.0, strict=True))
    elif name == "locations":
        for p in _phrases(data.get("phrases"), where):
            lex.entries.append(_Entry("location", "location", p, 1.0))


def _lexicon_paths(directory: Path, required: bool) -> dict[str, Path]:
    found = {}
    for name in LEXICON_FILES:
        candidates = [directory / f"{name}{ext}" for ext in (".json", ".yaml", ".yml")]
        present = [c for c in candidates if c.exists()]
        if len(present) > 1:
            raise LexiconError(f"{directory}: more than one file for lexicon {name!r}: "
                               + ", ".join(p.name for p in present))
        if present:
            found[name] = present[0]
        elif required:
            raise LexiconError(f"{directory}: lexicon file {name}.json is missing")
    return found


def load_lexicon(extra_dir: str | Path | None = None, *, base_dir: str | Path | None = None
                 ) -> Lexicon:
    """The built-in lexicons plus those in `extra_dir` (entries added, departments may be
    overridden). Raises LexiconError for a missing folder or a malformed file."""
    lex = Lexicon(entries=[], departments={})
    dirs = [(Path(base_dir) if base_dir else LEXICON_DIR, True)]
    if extra_dir:
        extra = Path(extra_dir)
        if not extra.is_dir():
            raise LexiconError(f"{extra}: the extra lexicon folder does not exist")
        dirs.append((extra, False))
    for directory, required in dirs:
        for name, path in _lexicon_paths(directory, required).items():
            _parse(name, _read_file(path), path, lex)
            lex.sources.append(str(path))
    return lex


class _Matcher:
    """Lexicon entries grouped by phrase length in words, ready for vectorised matching."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        groups: dict[int, list[_Entry]] = {}
        for entry in lexicon.entries:
            groups.setdefault(len(entry.phrase.split()), []).append(entry)
        self.groups = {
            n: (entries, [e.phrase for e in entries],
                np.array([allowed_edits(e.phrase, e.strict) for e in entries], dtype=np.int32))
            for n, entries in groups.items()
        }

    def match(self, tokens: list[str]) -> list[tuple[_Entry, int, int, int]]:
        """(entry, first token, end token, edits) for every phrase occurrence."""
        hits = []
        n_tokens = len(tokens)
        for n, (entries, phrases, allowed) in self.groups.items():
            candidates: dict[int, list[tuple[int, int, int, int]]] = {}
            for size in {max(1, n - 1), n, n + 1}:
                if size > n_tokens:
                    continue
                spans = [(i, i + size) for i in range(n_tokens - size + 1)]
                windows = [" ".join(tokens[a:b]) for a, b in spans]
                dist = cdist(phrases, windows, scorer=Levenshtein.distance,
                             dtype=np.int32, workers=1)
                rows, cols = np.nonzero(dist <= allowed[:, None])
                for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                    a, b = spans[c]
                    candidates.setdefault(r, []).append((int(dist[r, c]), abs(size - n), a, b))
            # each phrase: its best occurrences that do not overlap one another
            for r, found in candidates.items():
                taken: list[tuple[int, int]] = []
                for d, _, a, b in sorted(found):
                    if all(b <= ta or a >= tb for ta, tb in taken):
                        taken.append((a, b))
                        hits.append((entries[r], a, b, d))
        return hits


_cache: dict[tuple, _Matcher] = {}
_cache_lock = threading.Lock()


def _matcher(extra_dir: str | Path | None) -> _Matcher:
    dirs = [LEXICON_DIR] + ([Path(extra_dir)] if extra_dir else [])
    stamp = []
    for d in dirs:
        if d.is_dir():
            stamp += [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(d.iterdir())]
        else:
            stamp.append((str(d), None, None))
    key = tuple(stamp)
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = _Matcher(load_lexicon(extra_dir))
        with _cache_lock:
            _cache.clear()
            _cache[key] = found
    return found


# -------------------------------------------------------------------------------- analysis

_NUMBER_RE = re.compile(r"^\d{3,}$")
_PUNCT = ".,;:!?\"'()[]{}\u0964\u0965-"


def _combine(weights: list[float]) -> float:
    """Noisy-or: independent cues each raise the result, none alone reaches 1 unless it is 1."""
    remaining = 1.0
    for w in weights:
        remaining *= 1.0 - max(0.0, min(1.0, w))
    return round(1.0 - remaining, 4)


def analyse(
    transcript: Transcript | None = None,
    *,
    text: str | None = None,
    extra_lexicon_dir: str | Path | None = None,
) -> TextAnalysis:
    """Analyse a transcript (with word timings and confidences) or plain `text`."""
    matcher = _matcher(extra_lexicon_dir)
    lex = matcher.lexicon
    # tokens, with for each token the index of the transcript word it came from
    tokens: list[str] = []
    times: list[tuple[float | None, float | None]] = []
    confs: list[float] = []
    originals: list[str] = []
    if transcript is not None and transcript.words:
        for w in transcript.words:
            for tok in tokens_of(w.word):
                tokens.append(tok)
                times.append((w.start, w.end))
                confs.append(float(w.confidence))
                originals.append(w.word)
        source_text = transcript.text
    else:
        source_text = transcript.text if transcript is not None else (text or "")
        for raw in source_text.split():
            for tok in tokens_of(raw):
                tokens.append(tok)
                times.append((None, None))
                confs.append(1.0)
                originals.append(raw.strip(_PUNCT) or raw)

    result = TextAnalysis(incident_type=lex.default_type, department=lex.default_department,
                          text=source_text)
    if not tokens:
        result.known = False
        result.severity = UNKNOWN_SEVERITY
        result.missing = ["transcript", "location"]
        return result

    findings: list[Finding] = []
    for entry, a, b, edits in matcher.match(tokens):
        similarity = 1.0 - edits / max(1, len(entry.phrase))
        confidence = sum(confs[a:b]) / (b - a)
        score = round(similarity * (0.5 + 0.5 * confidence), 4)
        matched = " ".join(dict.fromkeys(originals[a:b]))  # keep order, drop repeats
        findings.append(Finding(entry.kind, entry.label, matched, times[a][0], times[b - 1][1],
                                score, entry.phrase))
        findings[-1]._span = (a, b)  # type: ignore[attr-defined]
        findings[-1]._weight = entry.weight  # type: ignore[attr-defined]

    # Within one kind and label, a phrase inside a longer matched phrase adds nothing.
    def covered(f: Finding) -> bool:
        a, b = f._span  # type: ignore[attr-defined]
        for g in findings:
            ga, gb = g._span  # type: ignore[attr-defined]
            if g is not f and g.kind == f.kind and g.label == f.label and ga <= a and b <= gb \
                    and len(g.phrase) > len(f.phrase):
                return True
        return False

    findings = [f for f in findings if not covered(f)]
    findings.sort(key=lambda f: (f._span[0], KINDS.index(f.kind), -f.score))  # type: ignore

    # incident type: best weighted match, plus a little for further evidence
    per_type: dict[str, list[float]] = {}
    for f in findings:
        if f.kind == "incident":
            per_type.setdefault(f.label, []).append(f.score * f._weight)  # type: ignore
    scores = {}
    for label, values in per_type.items():
        values.sort(reverse=True)
        scores[label] = round(values[0] + 0.1 * sum(values[1:]), 4)
    result.incident_scores = scores
    if scores:
        order = list(lex.departments)
        best = max(scores, key=lambda k: (scores[k], -order.index(k) if k in order else 0))
        result.incident_type = best
        result.department = lex.departments.get(best, lex.default_department)

    def best_per_label(kind: str) -> list[float]:
        best: dict[str, float] = {}
        for f in findings:
            if f.kind == kind:
                value = f._weight * f.score  # type: ignore[attr-defined]
                best[f.label] = max(best.get(f.label, 0.0), value)
        return list(best.values())

    result.severity = _combine(best_per_label("severity"))
    result.prank_likelihood = _combine(best_per_label("hoax"))
    result.abusive = any(f.kind == "abusive" for f in findings)
    location = any(f.kind == "location" for f in findings) or any(
        _NUMBER_RE.match(t) for t in tokens
    )
    result.location_mentioned = location
    if not location:
        result.missing.append("location")
    for f in findings:
        del f._span, f._weight  # type: ignore[attr-defined]
    result.findings = findings
    return result


# ------------------------------------------------------------------------------ evaluation

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


def field_metrics(expected: list[dict], predicted: list[dict]) -> dict[str, dict]:
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
