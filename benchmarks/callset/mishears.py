"""What the transcriber made of the words that matter: cue words of the scripts (the words the text
analysis finds in the script as written) and what the transcript had in their place. Run it on the
TUNING part only: looking at held-out transcripts to add phrases would tune on the held-out part.
"""

from __future__ import annotations

from collections import Counter

CUE_KINDS = ("incident", "severity", "hoax", "abusive")


def normalise(text: str) -> str:
    return " ".join("".join(c if c.isalnum() or c in " '" else " " for c in (text or "").lower()).split())


def wer(reference: str, hypothesis: str) -> tuple[float, int] | None:
    """(word error rate, reference words), or None without a reference."""
    import jiwer

    ref = normalise(reference)
    if not ref:
        return None
    return float(jiwer.wer(ref, normalise(hypothesis) or "")), len(ref.split())


def cue_mishearings(records: list[dict], top: int = 25) -> dict:
    """Over calls with a script text and a transcript: cue words heard as something else, and cue
    findings (kind: label) of the script that the transcript lost."""
    import jiwer

    from core.text.analysis import analyse
    from core.text.lexicon import tokens_of

    heard_as: Counter = Counter()
    lost: Counter = Counter()
    said_count: Counter = Counter()
    calls = 0
    for r in records:
        if not r.get("text") or r.get("transcript") is None:
            continue
        calls += 1
        said = analyse(text=r["text"])
        heard = analyse(text=r["transcript"] or "")
        heard_labels = {(f.kind, f.label) for f in heard.findings}
        cue_words: set[str] = set()
        for f in said.findings:
            if f.kind in CUE_KINDS:
                said_count[f"{f.kind}: {f.label}"] += 1
                cue_words.update(tokens_of(f.matched))
                if (f.kind, f.label) not in heard_labels:
                    lost[f"{f.kind}: {f.label} ('{f.matched}')"] += 1
        ref, hyp = normalise(r["text"]), normalise(r["transcript"] or "")
        if not ref or not cue_words:
            continue
        if not hyp:
            for word in ref.split():
                if word.replace("'", "") in cue_words:
                    heard_as[f"{word} -> (nothing)"] += 1
            continue
        out = jiwer.process_words(ref, hyp)
        refs, hyps = out.references[0], out.hypotheses[0]
        for chunk in out.alignments[0]:
            if chunk.type not in ("substitute", "delete"):
                continue
            for i in range(chunk.ref_start_idx, chunk.ref_end_idx):
                if refs[i].replace("'", "") not in cue_words:
                    continue
                j = chunk.hyp_start_idx + (i - chunk.ref_start_idx)
                instead = hyps[j] if chunk.type == "substitute" and j < chunk.hyp_end_idx else "(missing)"
                heard_as[f"{refs[i]} -> {instead}"] += 1
    return {"calls": calls, "cue_words_heard_as": heard_as.most_common(top),
            "cue_findings_lost": lost.most_common(top), "cue_findings_in_scripts": dict(said_count.most_common())}
