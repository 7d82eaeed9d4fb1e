"""The call-level ranking benchmark: scripted telephone calls through the real intake and pipeline.

    .venv/bin/python benchmarks/call_ranking.py [--split all|tuning|heldout] [--limit N]
        [--conditions phone,noisy15,noisy5,loss5,loss15] [--human N] [--resume] [--name calls]
    .venv/bin/python benchmarks/call_ranking.py --rescore [--name calls] [--split ...] [--oof-words]

Run mode: every script (benchmarks/callset/data/*.yaml) is spoken by its voice (espeak-ng or festival;
held-out voices are never used in tuning), sent through the telephone channel in each condition
(8 kHz, 300-3400 Hz, G.711 mu-law; babble/street noise at 15 and 5 dB SNR; 5 % and 15 % of 20 ms
packets lost), pushed in with POST /api/v1/cases/ (an intake key, the embedded settings: SQLite,
in-process analysis) and analysed by the real pipeline (Whisper, the emotion model, the text
analysis, the triage). RAVDESS and EmoDB clips go the same way for the transcriber-confidence
figure. Rendered audio is cached in $CALL_BENCH_CACHE (default /tmp/call_bench); every call's
stored results go to <cache>/records/<name>.jsonl as it finishes (--resume continues a run).

Rescore mode (--rescore, seconds): from the stored transcripts and emotion predictions, the text
analysis and the triage again with the code as it is now (the evidence built by the portal's own
analysis.services.case_evidence), plus the ablations: words only (the voice neutral, as the policy
makes it), voice only (words unknown), and the script's words as written (a perfect transcript: the
ceiling of what better transcription could give). No Whisper, no emotion model. The shipped words
model learnt from the tuning calls' own transcripts: with --oof-words each tuning call is read by a
model trained without its script (benchmarks/callset/oof_words.py), the tuning figures to choose a
setting on; without it the tuning part shows what the model memorised.

Figures for the HELD-OUT part (the one to report; never tune on it) and the tuning part: ranking AUC
of emergencies over non-genuine calls (non-emergency, prank, abusive) and over routine requests,
emergencies at LOW, non-genuine and routine at HIGH or above, incident type right, silent calls'
bands, per channel condition and voice family, seconds per call, and how sure the transcriber was
per kind of voice (synthetic, human). Writes benchmarks/results/<call_ranking|call_ranking_rescore>.json.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.callset import channel, figures, report  # noqa: E402
from benchmarks.callset.human import human_clips, render_human  # noqa: E402
from benchmarks.callset.mishears import cue_mishearings, wer  # noqa: E402
from benchmarks.callset.scripts import KINDS, Script, scripts_of  # noqa: E402
from benchmarks.callset.synth import default_cache_dir, render_call  # noqa: E402
from benchmarks.callset.voices import assign_voices, seed_of  # noqa: E402

VIEWS = {"stored": "as the pipeline stored it", "both": "rescored: words and voice",
         "words": "rescored: words only (voice neutral)", "voice": "rescored: voice only (words unknown)",
         "written": "rescored: the script's words as written (a perfect transcript), voice as recorded"}


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("all", "tuning", "heldout"), default="all")
    ap.add_argument("--limit", type=int, default=0, help="at most N scripts per split (all kinds kept)")
    ap.add_argument("--conditions", default=",".join(channel.CONDITIONS))
    ap.add_argument("--human", type=int, default=-1, help="human clips (RAVDESS+EmoDB); -1 all, 0 none")
    ap.add_argument("--rescore", action="store_true", help="score the stored calls again (seconds)")
    ap.add_argument("--oof-words", action="store_true",
                    help="with --rescore: read each tuning call with a words model trained without its script")
    ap.add_argument("--resume", action="store_true", help="keep the calls already in the records file")
    ap.add_argument("--name", default="calls", help="records file <cache>/records/<name>.jsonl")
    ap.add_argument("--cache", default=str(default_cache_dir()))
    ap.add_argument("--seed", type=int, default=112)
    args = ap.parse_args()
    args.conditions = [c for c in args.conditions.split(",") if c]
    unknown = set(args.conditions) - set(channel.CONDITIONS)
    if unknown:
        ap.error(f"unknown condition(s) {', '.join(sorted(unknown))}; known: {', '.join(channel.CONDITIONS)}")
    return args


def chosen_scripts(split: str, limit: int, seed: int) -> list[Script]:
    """The split's scripts; with a limit, taken in turn from each kind so that every kind stays."""
    out: list[Script] = []
    for part in ("tuning", "heldout") if split == "all" else (split,):
        scripts = scripts_of(part)
        if limit:
            by_kind = {k: sorted((s for s in scripts if s.kind == k), key=lambda s: seed_of(seed, s.id)) for k in KINDS}
            picked: list[Script] = []
            while len(picked) < min(limit, len(scripts)):
                for kind in KINDS:
                    if by_kind[kind] and len(picked) < limit:
                        picked.append(by_kind[kind].pop(0))
            scripts = [s for s in scripts if s in picked]
        out += scripts
    return out


def records_path(args: argparse.Namespace) -> Path:
    return Path(args.cache) / "records" / f"{args.name}.jsonl"


def load_records(path: Path) -> list[dict]:
    if not path.exists():
        raise SystemExit(f"no stored calls at {path}: run the benchmark first (without --rescore)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def code_version() -> dict:
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = git("status", "--porcelain")
    # a copy of the code outside git (git archive HEAD) says which commit it is in CALL_BENCH_CODE_VERSION
    return {"head": git("rev-parse", "--short", "HEAD") or os.environ.get("CALL_BENCH_CODE_VERSION", "unknown"),
            "changed_files": len(changed.splitlines()) if changed else 0, "tree": str(REPO)}


def run(args: argparse.Namespace) -> None:
    from benchmarks.callset import portal

    cache, path = Path(args.cache), records_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = {r["call_id"] for r in load_records(path)} if args.resume and path.exists() else set()
    if not args.resume:
        path.write_text("")
    scripts = chosen_scripts(args.split, args.limit, args.seed)
    voices = assign_voices(scripts_of("all"), args.seed)
    clips = human_clips(seed=args.seed) if args.human else []
    clips = clips[: args.human] if args.human > 0 else clips
    if args.human and not clips:
        print("human set: RAVDESS/EmoDB not found (set SHARED_DATA, RAVDESS_DIR or EMODB_DIR); left out", flush=True)
    jobs = [("script", s, c) for s in scripts for c in args.conditions] + \
           [("human", h, c) for h in clips for c in args.conditions]
    todo = [j for j in jobs if _call_id(j) not in done]
    print(f"{len(jobs)} calls ({len(scripts)} scripts x {len(args.conditions)} conditions, {len(clips)} human clips); "
          f"{len(todo)} to take in; cache {cache}", flush=True)
    portal.setup()
    api = portal.intake_client()
    warm = render_call(scripts[0], voices[scripts[0].id], "phone", seed=args.seed, cache_dir=cache)
    portal.take_call(api, warm.wav, "+919800000000")  # the models load outside the timings
    started = time.perf_counter()
    with open(path, "a") as out:
        for n, job in enumerate(todo, 1):
            record = _take(job, api, voices, args, cache)
            out.write(json.dumps(record) + "\n")
            out.flush()
            if n % 10 == 0 or n == len(todo):
                elapsed = time.perf_counter() - started
                print(f"  {n}/{len(todo)} calls, {elapsed / n:.2f} s per call, "
                      f"{elapsed / n * (len(todo) - n) / 60:.0f} min left", flush=True)
    summarise(load_records(path), args, name="call_ranking")


def _call_id(job: tuple) -> str:
    return f"{job[1].id}/{job[2]}"


def _take(job: tuple, api, voices: dict, args: argparse.Namespace, cache: Path) -> dict:
    from benchmarks.callset import portal

    what, item, condition = job
    number = f"+9198{seed_of(args.seed, 'caller', item.id) % 10**8:08d}"  # one caller per script: no history
    if what == "script":
        voice = voices[item.id]
        call = render_call(item, voice, condition, seed=args.seed, cache_dir=cache)
        wav, info = call.wav, call.info
        record = {"script_id": item.id, "kind": item.kind, "subkind": item.subkind, "split": item.split,
                  "incident_true": item.incident_type if item.kind == "emergency" else None,
                  "routine_type": item.incident_type if item.kind == "routine" else None, "text": item.text,
                  "voice": voice.to_dict(), "voice_id": voice.id, "voice_family": voice.family,
                  "voice_kind": "synthetic"}
    else:
        wav, info = render_human(item, condition, seed=args.seed, cache_dir=cache)
        record = {"clip_id": item.id, "kind": "human", "subkind": item.emotion, "split": "human",
                  "corpus": item.corpus, "speaker": item.speaker, "text": item.reference,
                  "voice_id": f"{item.corpus}:{item.speaker}", "voice_family": f"human-{item.corpus}",
                  "voice_kind": f"human-{item.corpus}"}
    record.update({"call_id": f"{item.id}/{condition}", "condition": condition, "noise": info.get("noise", ""),
                   "packets_lost": info.get("packets_lost", 0), "audio_seconds": info.get("seconds")})
    record.update(portal.take_call(api, wav, number))
    measured = wer(record["text"], record["transcript"] or "") if record["text"] and record["transcript"] is not None \
        else None
    record["wer"], record["ref_words"] = measured if measured else (None, None)
    return record


def with_views(records: list[dict], words_model_for: Callable[[dict], Any] | None = None) -> list[dict]:
    """Each scripted call with its 'stored' view and the rescored ones (the code as it is now; the
    words read by ``words_model_for(record)`` where given, a tuning call by a model that never saw
    its script, else by the active words model)."""
    from benchmarks.callset import portal

    out = []
    for r in records:
        if r["kind"] == "human":
            continue
        views = {"stored": {"score": r["score"], "band": r["band"], "incident_pred": r["incident_pred"],
                            "word_confidence": r["word_confidence"]}}
        model = words_model_for(r) if words_model_for is not None and r["split"] == "tuning" else None
        views.update(portal.rescore(r, words_model=model))
        out.append({**r, "views": views})
    return out


def flat(records: list[dict], view: str) -> list[dict]:
    return [{**{k: r.get(k) for k in ("kind", "split", "condition", "voice_family", "voice_id", "incident_true",
                                      "seconds", "subkind", "noise")}, **r["views"][view]} for r in records]


def summarise(records: list[dict], args: argparse.Namespace, name: str) -> dict:
    started = time.perf_counter()
    words_model_for = None
    if args.oof_words and any(r["split"] == "tuning" for r in records):  # the held-out part: the shipped model
        from benchmarks.callset.oof_words import out_of_fold_models

        words_model_for = out_of_fold_models()
    scored = with_views(records, words_model_for)
    splits = [s for s in ("heldout", "tuning") if any(r["split"] == s for r in scored)]
    result: dict = {"code": code_version(), "records": str(records_path(args)), "seed": args.seed,
                    "conditions": sorted({r["condition"] for r in records}), "views": VIEWS, "splits": {},
                    "tuning_words_model": "out of fold (5 folds by script)" if words_model_for else "the active one"}
    for split in splits:
        part = [r for r in scored if r["split"] == split]
        views = {v: figures.ranking(flat(part, v)) for v in VIEWS}
        both = flat(part, "both")
        emergencies = [r["views"]["both"]["voice_distress"] for r in part if r["kind"] == "emergency"]
        non_genuine = [r["views"]["both"]["voice_distress"] for r in part if r["kind"] in figures.NON_GENUINE]
        result["splits"][split] = {
            "scripts": len({r["script_id"] for r in part}),
            "calls_by_kind": {k: sum(r["kind"] == k for r in part) for k in KINDS},
            "views": views,
            "voice_distress_auc_emergency_vs_non_genuine": figures.auc(emergencies, non_genuine),
            "per_condition": figures.grouped(both, "condition"),
            "per_voice_family": figures.grouped(both, "voice_family"),
            "per_noise": figures.grouped([r for r in both if r["noise"]], "noise"),
            "incident_confusion": figures.incident_confusion(both),
            "stored_equals_rescored": sum(r["views"]["stored"]["band"] == r["views"]["both"]["band"] for r in part),
        }
    synthetic = [r for r in records if r["kind"] != "human"]
    result["seconds_per_call"] = figures.seconds(records)
    result["seconds_per_call_by_kind"] = {k: figures.seconds([r for r in records if r["kind"] == k])
                                          for k in sorted({r["kind"] for r in records})}
    result["transcriber"] = figures.transcriber(records)
    result["transcriber_by_condition"] = figures.transcriber(
        [{**r, "group": f"{r['voice_kind']} {r['condition']}"} for r in records], key="group")
    result["transcriber_synthetic_by_family"] = figures.transcriber(synthetic, key="voice_family")
    result["transcriber_by_split"] = figures.transcriber(synthetic, key="split")
    result["mishears_tuning"] = cue_mishearings([r for r in synthetic if r["split"] == "tuning"])
    result["rescore_seconds"] = round(time.perf_counter() - started, 2)
    # Each call's kind and score as the code scores it now: the arrivals of benchmarks/queue_sim.py.
    result["calls"] = [{"call_id": r["call_id"], "kind": r["kind"], "split": r["split"], "condition": r["condition"],
                        "base_score": r["views"]["both"]["score"], "band": r["views"]["both"]["band"]}
                       for r in scored]
    _print(result)
    from benchmarks._django import write_results

    write_results(name, result)
    return result


def _print(result: dict) -> None:
    splits = result["splits"]
    print(f"\ncode {result['code']['head']} ({result['code']['changed_files']} changed files) at {result['code']['tree']}")
    for view, label in VIEWS.items():
        print("\n" + report.table(f"== {label} ==", {s: splits[s]["views"][view] for s in splits}))
    for split in splits:
        s = splits[split]
        print(f"\n[{split}] scripts {s['scripts']}, calls by kind {s['calls_by_kind']}; "
              f"stored band = rescored band on {s['stored_equals_rescored']} calls")
        print(f"[{split}] voice distress component alone: AUC emergency vs non-genuine "
              f"{report._num(s['voice_distress_auc_emergency_vs_non_genuine'])}")
        print(report.bands_by_kind(f"[{split}] bands by kind (rescored, words and voice)", s["views"]["both"]))
        print(report.compact(f"[{split}] per channel condition", s["per_condition"]))
        print(report.compact(f"[{split}] per voice family", s["per_voice_family"]))
        print(report.compact(f"[{split}] per background noise (noisy conditions)", s["per_noise"]))
        print(f"[{split}] incident type, true -> predicted: {s['incident_confusion']}")
    print("\n" + report.transcriber_table("transcriber per kind of voice", result["transcriber"]))
    print(report.transcriber_table("transcriber per kind of voice and condition", result["transcriber_by_condition"]))
    print(report.transcriber_table("transcriber per synthetic voice family", result["transcriber_synthetic_by_family"]))
    sec = result["seconds_per_call"]
    if sec:
        print(f"\nseconds per call (intake to analysed, one process): mean {sec['mean']}, p50 {sec['p50']}, "
              f"p95 {sec['p95']} over {sec['calls']} calls")
    m = result["mishears_tuning"]
    print(f"\nTUNING part only, {m['calls']} calls: cue words heard as something else (most common)")
    for pair, count in m["cue_words_heard_as"][:20]:
        print(f"  {count:>4}  {pair}")
    print(f"rescored in {result['rescore_seconds']} s")


def main() -> None:
    args = parse()
    if args.oof_words and not args.rescore:
        raise SystemExit("--oof-words scores stored calls again: use it with --rescore")
    if args.rescore:
        from benchmarks.callset import portal

        started = time.perf_counter()
        portal.setup("sqlite:///:memory:")
        records = [r for r in load_records(records_path(args)) if r["condition"] in args.conditions
                   and (args.split == "all" or r["split"] in (args.split, "human"))]
        summarise(records, args, name="call_ranking_rescore")
        print(f"whole rescore: {time.perf_counter() - started:.1f} s")
    else:
        run(args)


if __name__ == "__main__":
    main()
