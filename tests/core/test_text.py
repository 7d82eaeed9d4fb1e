"""What the words say: lexicon loading and its errors, fuzzy matching in English, Hinglish and
Devanagari, timings from the transcript, the unknown-words path, and the utterance table."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from core.speech.transcript import Transcript, Word
from core.text import analysis as X
from core.text import evaluation, lexicon

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "utterances.csv"


def words_transcript(spec: list[tuple[str, float]], conf: float = 0.9) -> Transcript:
    words = [Word(w, t, t + 0.4, conf) for w, t in spec]
    return Transcript(" ".join(w for w, _ in spec), words, "en", "vosk", "test-model")


# ------------------------------------------------------------------------- the table


def load_table():
    with open(FIXTURE, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_table_is_large_and_valid():
    rows = load_table()
    assert len(rows) >= 60
    assert {r["language"] for r in rows} == {"en", "hinglish", "hi"}
    assert {r["incident_type"] for r in rows} == set(X.INCIDENT_TYPES)
    assert {r["department"] for r in rows} <= set(lexicon.DEPARTMENTS)
    assert sum(r["prank"] == "1" for r in rows) >= 12


def test_table_precision_and_recall():
    rows = load_table()
    predicted = [evaluation.predicted_fields(X.analyse(text=r["text"])) for r in rows]
    m = evaluation.field_metrics(rows, predicted)
    # The current code reaches 0.99-1.0 on every field of this table (its lexicons were written
    # alongside it, so this guards against regressions; benchmarks/text_analysis.py also
    # measures the table through the real recogniser).
    assert m["incident_type"]["precision"] >= 0.95 and m["incident_type"]["recall"] >= 0.95
    assert m["department"]["precision"] >= 0.95 and m["department"]["recall"] >= 0.95
    for name in ("prank", "abusive", "location"):
        assert m[name]["precision"] >= 0.9, (name, m[name])
        assert m[name]["recall"] >= 0.9, (name, m[name])


def test_field_metrics_counts_errors():
    expected = [{"incident_type": "fire", "department": "fire", "prank": "1", "abusive": "0",
                 "location": "1"}] * 2
    predicted = [dict(expected[0]), dict(expected[0], incident_type="other", prank="0")]
    m = evaluation.field_metrics(expected, predicted)
    assert m["incident_type"] == {"accuracy": 0.5, "precision": 1.0, "recall": 0.5, "n": 2}
    assert m["prank"]["recall"] == 0.5 and m["prank"]["precision"] == 1.0


# -------------------------------------------------------------------------- findings


def test_english_medical_call_with_severity_and_location():
    a = X.analyse(text="My father collapsed and is not breathing, send an ambulance near MG Road")
    assert (a.incident_type, a.department) == ("medical", "health")
    labels = {f.label for f in a.by_kind("severity")}
    assert {"not_breathing", "unconscious"} <= labels
    assert a.severity > 0.9 and a.location_mentioned and a.missing == []
    assert a.prank_likelihood == 0 and not a.abusive and a.known


@pytest.mark.parametrize("said, incident", [
    ("aag lagi hai bachao", "fire"),
    ("bachaao bachaao mere bhai ka khoon beh raha hai", "medical"),   # spelling variant
    ("he can not breathe please help", "medical"),                    # split word
    ("a man is harrassing me on the bus", "women_safety"),            # misspelling
    ("आग लगी है जल्दी आओ", "fire"),
    ("ज़हर खा लिया है", "medical"),                                     # nukta spelling
    ("जहर खा लिया है", "medical"),
])
def test_fuzzy_and_multilingual_matching(said, incident):
    assert X.analyse(text=said).incident_type == incident


def test_short_words_need_an_exact_match():
    # 'fight' must not match 'night' or 'right'; 'fire' must not match 'hire'
    a = X.analyse(text="I will hire a car tonight, right")
    assert a.incident_type == "other" and a.findings == []


def test_prank_cues_and_abusive_language():
    a = X.analyse(text="haha just kidding, there is a zombie outside, you idiot")
    assert {f.label for f in a.by_kind("hoax")} == {"laughter", "admits_joke", "fictional"}
    assert a.prank_likelihood > 0.8
    assert a.abusive and [f.matched for f in a.by_kind("abusive")] == ["idiot"]
    h = X.analyse(text="saale kamine phone kyon kaat diya")
    assert h.abusive and len(h.by_kind("abusive")) == 2


def test_findings_carry_words_and_times_from_the_transcript():
    t = words_transcript([("hello", 0.2), ("there", 0.7), ("is", 1.1), ("a", 1.3),
                          ("fire", 1.5), ("in", 2.0), ("the", 2.2), ("kitchen", 2.4)])
    a = X.analyse(t)
    [fire] = [f for f in a.findings if f.kind == "incident"]
    assert (fire.label, fire.matched, fire.start, fire.end) == ("fire", "fire", 1.5, 1.9)
    assert fire.score == pytest.approx(0.95)  # exact match, recogniser 90 % sure
    low = X.analyse(words_transcript([("fire", 0.0)], conf=0.1))
    assert low.findings[0].score == pytest.approx(0.55)  # unsure words count for less
    assert low.incident_type == "fire"
    assert X.analyse(text="fire").findings[0].start is None


def test_no_words_means_unknown_not_harmless():
    for a in (X.analyse(None), X.analyse(text=""), X.analyse(Transcript("", [], "en"))):
        assert not a.known
        assert a.severity == X.UNKNOWN_SEVERITY > 0
        assert "transcript" in a.missing and "location" in a.missing
        assert "words unknown: no transcript" in a.reasons()


def test_the_stored_result_round_trips_through_json():
    analysis = X.analyse(words_transcript([("someone", 0.2), ("shot", 0.6), ("a", 0.9), ("man", 1.0),
                                           ("near", 1.3), ("the", 1.5), ("station", 1.6)]))
    data = json.loads(json.dumps(analysis.to_dict()))
    assert data["incident_type"] == "crime" and data["department"] == "police"
    assert X.TextAnalysis.from_dict(data) == analysis
    assert any("weapon" in line for line in analysis.reasons())
    with pytest.raises(KeyError):
        X.TextAnalysis.from_dict({k: v for k, v in data.items() if k != "severity"})


# ---------------------------------------------------------------------------- lexicons


def test_builtin_lexicons_load():
    lex = lexicon.load_lexicon()
    assert set(lex.departments.values()) == set(lexicon.DEPARTMENTS)
    assert len(lex.sources) == len(lexicon.LEXICON_FILES)
    assert len(lex.entries) > 300


def test_extra_lexicon_dir_extends_json_and_yaml(tmp_path):
    (tmp_path / "incidents.json").write_text(json.dumps({"categories": {
        "medical": {"phrases": ["frostbite"]},
        "fire": {"department": "fire", "phrases": ["jungle mein aag"]},
    }}))
    (tmp_path / "hoax.yaml").write_text("cues:\n  cartoon:\n    weight: 0.9\n"
                                        "    phrases: [chhota bheem]\n")
    a = X.analyse(text="my uncle has frostbite", extra_lexicon_dir=tmp_path)
    assert a.incident_type == "medical"
    assert X.analyse(text="my uncle has frostbite").incident_type == "other"
    b = X.analyse(text="chhota bheem ne mujhe maara", extra_lexicon_dir=tmp_path)
    assert b.prank_likelihood == pytest.approx(0.9)


@pytest.mark.parametrize("name, content, message", [
    ("incidents.json", "{not json", "invalid JSON at line 1"),
    ("incidents.json", "[]", "top level must be an object"),
    ("incidents.json", '{"categories": []}', "'categories' must be an object"),
    ("incidents.json", '{"categories": {"x": {"department": "army", "phrases": ["a"]}}}',
     "'department' must be one of"),
    ("incidents.json", '{"categories": {"fire": {"phrases": "fire"}}}',
     "'phrases' must be a non-empty list"),
    ("incidents.json", '{"categories": {"fire": {"phrases": ["ok", 3]}}}', "phrase #2"),
    ("incidents.json", '{"categories": {"fire": {"phrases": ["  ", "x"]}}}', "phrase #1"),
    ("severity.json", '{"cues": {"x": {"weight": 1.5, "phrases": ["a"]}}}', "'weight' must be"),
    ("severity.json", '{"cues": {"x": {"weight": "high", "phrases": ["a"]}}}',
     "'weight' must be a number"),
    ("hoax.yaml", "cues: [1, 2", "invalid YAML"),
    ("abusive.json", '{"words": ["x"]}', "'phrases' must be a non-empty list"),
])
def test_bad_lexicon_files_give_clear_errors(tmp_path, name, content, message):
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(lexicon.LexiconError, match=message) as info:
        X.analyse(text="fire", extra_lexicon_dir=tmp_path)
    assert name in str(info.value)


def test_other_lexicon_folder_problems(tmp_path):
    with pytest.raises(lexicon.LexiconError, match="does not exist"):
        lexicon.load_lexicon(tmp_path / "missing")
    (tmp_path / "hoax.json").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(lexicon.LexiconError, match="not UTF-8"):
        lexicon.load_lexicon(tmp_path)
    (tmp_path / "hoax.json").write_text("{}")
    (tmp_path / "hoax.yml").write_text("{}")
    with pytest.raises(lexicon.LexiconError, match="more than one file"):
        lexicon.load_lexicon(tmp_path)
    base = tmp_path / "base"
    shutil.copytree(lexicon.LEXICON_DIR, base)
    (base / "severity.json").unlink()
    with pytest.raises(lexicon.LexiconError, match="severity.json is missing"):
        lexicon.load_lexicon(base_dir=base)


def test_lexicon_cache_follows_file_changes(tmp_path):
    (tmp_path / "hoax.json").write_text(json.dumps({"cues": {"a": {"weight": 0.9,
                                                                   "phrases": ["jalebi"]}}}))
    assert X.analyse(text="jalebi", extra_lexicon_dir=tmp_path).prank_likelihood == 0.9
    (tmp_path / "hoax.json").write_text(json.dumps({"cues": {"a": {"weight": 0.9,
                                                                   "phrases": ["samosa chaat"]}}}))
    assert X.analyse(text="jalebi", extra_lexicon_dir=tmp_path).prank_likelihood == 0.0


@pytest.mark.parametrize("statement", ["Kids are talking by the door", "Dogs are sitting by the door",
                                       "kids are talking by the door.", "Dogs are sitting by the door!"])
def test_the_ravdess_statements_say_nothing_about_an_incident(statement):
    """Every RAVDESS clip says one of these two sentences: no lexicon phrase may fire on them
    ("talking" once matched "stalking")."""
    analysis = X.analyse(text=statement)
    assert analysis.findings == [] and analysis.incident_type == "other" and analysis.severity == 0.0


def test_a_fuzzy_match_keeps_the_first_letter_but_tolerates_spelling():
    assert X.analyse(text="he is stalking me").incident_type == "women_safety"
    assert [f.label for f in X.analyse(text="bachaao").findings] == ["help_now"]
    assert X.analyse(text="i can not breathe").incident_type == "medical"
