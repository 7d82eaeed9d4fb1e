"""What the caller's words say: plain Python, no Django.

``analyse(transcript)`` finds the incident type and the department to route to, severity cues,
abusive language, hoax/prank cues and whether a location was given, in English, romanised
Hindi/Hinglish and Devanagari (phrase lists: :mod:`core.text.lexicon`). Every finding carries
the words it matched, the weight of its lexicon entry and, when the transcript has word timings,
their time in the call.

No transcript (or an empty one) means the words are *unknown*: ``known`` is False, and the
severity is ``UNKNOWN_SEVERITY`` rather than zero, so that missing words never look harmless.

:class:`TextAnalysis` is the text step's result as stored (``to_dict`` / ``from_dict``) and
what the triage reads (:meth:`core.triage.evidence.WordEvidence.from_text_analysis`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.contracts import ADDED_LATER, field_values
from core.probability import noisy_or
from core.speech.transcript import Transcript
from core.text.lexicon import is_generic, matcher_for, tokens_of

INCIDENT_TYPES = ("medical", "fire", "crime", "women_safety", "road_accident", "other")
UNKNOWN_SEVERITY = 0.5  # words unknown: neither harmless nor proven critical
# Below this mean word confidence a transcript is marked "unsure" for the operator and the audit
# sample (the triage itself grades every cue by its own words' confidence, with no threshold). On
# 240 RAVDESS utterances (clean and telephone), Whisper's transcripts under it had a word error
# rate of 0.28 against 0.03 above it; PocketSphinx's fell under it 239 times in 240 (WER 0.88).
UNSURE_WORD_CONFIDENCE = 0.8
KINDS = ("incident", "severity", "abusive", "hoax", "non_emergency", "location")
#: The kinds of non-emergency call the words can show (``non_emergency.json``'s cue names).
NON_EMERGENCY_KINDS = ("enquiry", "wrong_number", "test_call", "service_request")


@dataclass(frozen=True)
class Finding:
    """One lexicon phrase found in the words, with where and how surely it was found."""

    kind: str  # one of KINDS
    label: str  # incident type, cue name, 'abusive' or 'location'
    matched: str  # the words as they were in the transcript
    start: float | None  # seconds into the call, None for plain text
    end: float | None
    score: float  # 0..1: how well the words matched times how sure the recogniser was
    phrase: str  # the lexicon phrase that matched
    weight: float  # the lexicon entry's weight: how much this cue alone counts
    # the recogniser's mean confidence in these words (1 for typed text)
    confidence: float = field(default=1.0, metadata=ADDED_LATER)

    @property
    def names_incident(self) -> bool:
        """Words that name the incident ("snake bite"), not a service or condition ("police")."""
        return self.kind == "incident" and not is_generic(self.kind, self.weight)

    @property
    def similarity(self) -> float:
        """How well the words matched the phrase (1 = exactly), without the recogniser's doubt."""
        return min(1.0, self.score / (0.5 + 0.5 * self.confidence))

    @property
    def raising_strength(self) -> float:
        """How much this cue alone raises a call: an unsure urgent word still counts half, since
        missing a real emergency costs more than answering a doubtful one first."""
        return self.weight * self.score

    @property
    def lowering_strength(self) -> float:
        """How much this cue alone lowers a call: in full proportion to how sure the recogniser
        was of the words, so an unsure 'joke' lowers nothing much."""
        return self.weight * self.similarity * self.confidence

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(**field_values(cls, data))


@dataclass
class TextAnalysis:
    """The text step's result: what the words say, every finding with its words and time."""

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
    # the recogniser's mean confidence in the words (1 for typed text)
    word_confidence: float = field(default=1.0, metadata=ADDED_LATER)
    unsure: bool = field(default=False, metadata=ADDED_LATER)  # word_confidence below UNSURE_WORD_CONFIDENCE
    # the recogniser's mean confidence in the words that are not an urgent cue: how much those
    # words can be read as "nothing urgent was said" (unsure ones might hide an emergency)
    other_confidence: float | None = field(default=None, metadata=ADDED_LATER)
    # words of an enquiry, a wrong number, a test call or a service request (0..1), and which
    non_emergency_likelihood: float = field(default=0.0, metadata=ADDED_LATER)
    non_emergency_kind: str = field(default="", metadata=ADDED_LATER)
    # the words model's reading (core.text.words_model.WordsModelReading.to_dict()), when one is installed
    model: dict[str, Any] | None = field(default=None, metadata=ADDED_LATER)
    # a challenger words version's reading in the shadow of that one: kept, never scored
    shadow_model: dict[str, Any] | None = field(default=None, metadata=ADDED_LATER)

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
        elif self.unsure:
            lines.append(f"words unsure: mean confidence {self.word_confidence:.2f}")
        for item in self.missing:
            lines.append(f"missing: no {item} given")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextAnalysis:
        values = field_values(cls, data)
        values["findings"] = [Finding.from_dict(f) for f in data["findings"]]
        return cls(**values)


_NUMBER_RE = re.compile(r"^\d{3,}$")
_PUNCT = ".,;:!?\"'()[]{}\u0964\u0965-"


@dataclass(frozen=True)
class _Token:
    text: str
    start: float | None
    end: float | None
    confidence: float
    original: str  # the transcript word it came from


def _tokens(transcript: Transcript | None, text: str | None) -> tuple[list[_Token], str]:
    """Normalised tokens with their times and confidences, and the text they came from."""
    if transcript is not None and transcript.words:
        tokens = [_Token(tok, w.start, w.end, float(w.confidence), w.word)
                  for w in transcript.words for tok in tokens_of(w.word)]
        return tokens, transcript.text
    source = transcript.text if transcript is not None else (text or "")
    tokens = [_Token(tok, None, None, 1.0, raw.strip(_PUNCT) or raw)
              for raw in source.split() for tok in tokens_of(raw)]
    return tokens, source


def _findings(tokens: list[_Token], extra_lexicon_dir: str | Path | None) -> list[Finding]:
    """Every lexicon match, minus phrases inside a longer match of the same kind and label."""
    spans: list[tuple[Finding, int, int]] = []
    for entry, a, b, edits in matcher_for(extra_lexicon_dir).match([t.text for t in tokens]):
        similarity = 1.0 - edits / max(1, len(entry.phrase))
        confidence = sum(t.confidence for t in tokens[a:b]) / (b - a)
        matched = " ".join(dict.fromkeys(t.original for t in tokens[a:b]))  # keep order, drop repeats
        finding = Finding(entry.kind, entry.label, matched, tokens[a].start, tokens[b - 1].end,
                          round(similarity * (0.5 + 0.5 * confidence), 4), entry.phrase, entry.weight,
                          round(confidence, 4))
        spans.append((finding, a, b))

    def covered(f: Finding, a: int, b: int) -> bool:
        # A match inside a longer one of the same label goes; over the same words the closer match
        # stays ("following me" heard is "following me", not "following her" two edits away).
        return any(g is not f and g.kind == f.kind and g.label == f.label and ga <= a and b <= gb
                   and (gb - ga, g.similarity, len(g.phrase)) > (b - a, f.similarity, len(f.phrase))
                   for g, ga, gb in spans)

    kept = [(f, a) for f, a, b in spans if not covered(f, a, b)]
    kept.sort(key=lambda item: (item[1], KINDS.index(item[0].kind), -item[0].score))
    return [f for f, _ in kept]


def _strongest_per_label(findings: list[Finding], kind: str, *, lowering: bool = False) -> dict[str, float]:
    best: dict[str, float] = {}
    for f in findings:
        if f.kind == kind:
            strength = f.lowering_strength if lowering else f.raising_strength
            best[f.label] = max(best.get(f.label, 0.0), strength)
    return best


def _other_confidence(tokens: list[_Token], findings: list[Finding]) -> float:
    """Mean confidence of the words outside every urgent cue (1 when every word is one)."""
    urgent = [(f.start, f.end) for f in findings if f.kind == "severity" and f.start is not None]
    others = [t.confidence for t in tokens
              if not any(t.start is not None and s <= t.start and t.end is not None and t.end <= e
                         for s, e in urgent if e is not None)]
    return round(sum(others) / len(others), 4) if others else 1.0


def analyse(
    transcript: Transcript | None = None,
    *,
    text: str | None = None,
    extra_lexicon_dir: str | Path | None = None,
) -> TextAnalysis:
    """Analyse a transcript (with word timings and confidences) or plain `text`."""
    lex = matcher_for(extra_lexicon_dir).lexicon
    tokens, source_text = _tokens(transcript, text)
    result = TextAnalysis(incident_type=lex.default_type, department=lex.default_department,
                          text=source_text)
    if not tokens:
        result.known = False
        result.severity = UNKNOWN_SEVERITY
        result.missing = ["transcript", "location"]
        return result

    result.word_confidence = round(sum(t.confidence for t in tokens) / len(tokens), 4)
    result.unsure = result.word_confidence < UNSURE_WORD_CONFIDENCE
    findings = _findings(tokens, extra_lexicon_dir)
    # incident type: best weighted match, plus a little for further evidence. How well the words match
    # counts, not how sure the recogniser was of them: its doubt decides how far a cue moves the score,
    # not which of two heard cues names the incident ("following me" heard less surely than "knife"
    # is still a woman followed). On the call benchmark's tuning part 40 % right against 39 %.
    per_type: dict[str, list[float]] = {}
    for f in findings:
        if f.kind == "incident":
            per_type.setdefault(f.label, []).append(f.similarity * f.weight)
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

    result.severity = round(noisy_or(_strongest_per_label(findings, "severity").values()), 4)
    result.prank_likelihood = round(noisy_or(_strongest_per_label(findings, "hoax", lowering=True).values()), 4)
    non_emergency = _strongest_per_label(findings, "non_emergency", lowering=True)
    result.non_emergency_likelihood = round(noisy_or(non_emergency.values()), 4)
    result.non_emergency_kind = max(non_emergency, key=non_emergency.__getitem__) if non_emergency else ""
    result.other_confidence = _other_confidence(tokens, findings)
    result.abusive = any(f.kind == "abusive" for f in findings)
    result.location_mentioned = any(f.kind == "location" for f in findings) or any(
        _NUMBER_RE.match(t.text) for t in tokens
    )
    if not result.location_mentioned:
        result.missing.append("location")
    result.findings = findings
    return result
