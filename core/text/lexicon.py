"""Phrase lists (lexicons) and the fuzzy matcher that finds them in a caller's words.

The phrase lists are data files in ``core/text/lexicons`` (JSON); an admin extends them by
putting files of the same names (JSON or YAML) in an extra folder, whose entries are added
to the built-in ones. A malformed file raises ``LexiconError`` naming the file and the fault.

Phrases are matched fuzzily (rapidfuzz Levenshtein distance on whole words, the allowed number
of edits growing with the phrase's length), so recognition errors such as "bachaao" for
"bachao" or "can not" for "cannot" still match; short words must match exactly, and a fuzzy
match must begin with the phrase's first letter ("talking" is not "stalking").
Plain Python, no Django.
"""

from __future__ import annotations

import json
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
LEXICON_FILES = ("incidents", "severity", "hoax", "non_emergency", "abusive", "locations")
DEPARTMENTS = ("health", "fire", "police", "women_help")
#: Kinds of cue that lower a call's priority (matched strictly).
LOWERING_KINDS = frozenset({"hoax", "non_emergency"})
#: The weight of an incident category's 'generic' phrases ("police", "hospital"): they help tell
#: the type but name no incident, so they never raise a call's severity (see is_generic).
GENERIC_INCIDENT_WEIGHT = 0.3


def is_generic(kind: str, weight: float) -> bool:
    """An incident phrase that names a service or condition rather than an incident."""
    return kind == "incident" and weight <= GENERIC_INCIDENT_WEIGHT


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and the fault."""


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
class Entry:
    kind: str
    label: str
    phrase: str  # normalised
    weight: float
    strict: bool = False


@dataclass
class Lexicon:
    entries: list[Entry]
    departments: dict[str, str]  # incident type -> department
    default_type: str = "other"
    default_department: str = "police"
    sources: list[str] = field(default_factory=list)


def incident_phrases(lexicon: Lexicon) -> list[tuple[str, str]]:
    """(phrase, incident type) for every phrase that names an incident (not the generic ones): what
    the words model's incident head learns beside the calls (core.text.words_model)."""
    return [(e.phrase, e.label) for e in lexicon.entries if e.kind == "incident" and not is_generic(e.kind, e.weight)]


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


def _require_dict(data: object, where: str, key: str | None = None) -> dict[str, Any]:
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
                lex.entries.append(Entry("incident", label, p, weight))
            if body.get("generic") is not None:
                for p in _phrases(body.get("generic"), f"{w} 'generic'"):
                    lex.entries.append(Entry("incident", label, p, GENERIC_INCIDENT_WEIGHT))
    elif name in ("severity", "hoax", "non_emergency"):
        kind = name
        # Cues that lower a call match nearly exactly: a misheard word must not demote an emergency
        # ("gali number 8" is no "galat number", "I am hiding" no "I am kidding").
        strict = kind in LOWERING_KINDS
        cues = _require_dict(data.get("cues"), where, "cues")
        for label, body in cues.items():
            w = f"{where}: cue {label!r}"
            body = _require_dict(body, w)
            weight = _weight(body.get("weight"), w, 0.5)
            if weight > 1:
                raise LexiconError(f"{w}: 'weight' must be in (0, 1], not {weight!r}")
            for p in _phrases(body.get("phrases"), w):
                lex.entries.append(Entry(kind, label, p, weight, strict=strict))
    elif name == "abusive":
        for p in _phrases(data.get("phrases"), where):
            lex.entries.append(Entry("abusive", "abusive", p, 1.0, strict=True))
    elif name == "locations":
        for p in _phrases(data.get("phrases"), where):
            lex.entries.append(Entry("location", "location", p, 1.0))


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


class Matcher:
    """Lexicon entries grouped by phrase length in words, ready for vectorised matching."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        groups: dict[int, list[Entry]] = {}
        for entry in lexicon.entries:
            groups.setdefault(len(entry.phrase.split()), []).append(entry)
        self.groups = {
            n: (entries, [e.phrase for e in entries],
                np.array([allowed_edits(e.phrase, e.strict) for e in entries], dtype=np.int32))
            for n, entries in groups.items()
        }

    def match(self, tokens: list[str]) -> list[tuple[Entry, int, int, int]]:
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
                    if dist[r, c] and windows[c][0] != phrases[r][0]:
                        continue  # an edit at the very start makes another word ("talking" ~ "stalking")
                    candidates.setdefault(r, []).append((int(dist[r, c]), abs(size - n), a, b))
            # each phrase: its best occurrences that do not overlap one another
            for r, found in candidates.items():
                taken: list[tuple[int, int]] = []
                for d, _, a, b in sorted(found):
                    if all(b <= ta or a >= tb for ta, tb in taken):
                        taken.append((a, b))
                        hits.append((entries[r], a, b, d))
        return hits


_cache: dict[tuple[tuple[str, int | None, int | None], ...], Matcher] = {}
_cache_lock = threading.Lock()


def matcher_for(extra_dir: str | Path | None) -> Matcher:
    dirs = [LEXICON_DIR] + ([Path(extra_dir)] if extra_dir else [])
    stamp: list[tuple[str, int | None, int | None]] = []
    for d in dirs:
        if d.is_dir():
            stamp += [(str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(d.iterdir())]
        else:
            stamp.append((str(d), None, None))
    key = tuple(stamp)
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = Matcher(load_lexicon(extra_dir))
        with _cache_lock:
            _cache.clear()
            _cache[key] = found
    return found
