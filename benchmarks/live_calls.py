"""Live calls in real time: N calls at once, each streamed as a phone system streams it, followed by
the live worker (live.worker) in this process.

Each call: a lead-in, a key phrase (the emergency), more words; spoken by festival and espeak-ng
voices, through an 8 kHz mu-law telephone channel, sent in 20 ms frames at real time. Two sets of
eight calls (benchmarks/callset/live_scripts.py): ``tuning``, on which the live settings were
chosen, and ``heldout``, other scripts and voices never tuned on (the default). Printed, per
ingress and number of calls:

- time to flag: from the end of the key phrase to the case at HIGH or CRITICAL with a word of the
  phrase in its reasons (p50/p95), beside the after-upload path (call length + the batch analysis);
- how far committed words trail speech: from the end of a word in the call to the reading that
  first holds it (p50/p95), and the worst "words behind" the worker reported;
- WER of the live words against the script, beside the same model and decoding run once over the
  whole call (what streaming costs) and the batch engine's transcript (the analysis at hang-up);
- frames lost (sent, less those the stream counted), and reconnects;
- CPU seconds per second of call audio, and how many calls one core follows in real time;
- resident memory.

Each run streams over one ingress (benchmarks/live_ingress.py): the websocket media stream and
Asterisk AudioSocket by default, or straight to the spool (the worker alone); the drop runs break
every call's connection once mid-call and reconnect it, and count the frames lost.

Usage: benchmarks/live_calls.py [--calls 1,2,4,8] [--set heldout,tuning] [--ingress websocket,audiosocket] [--drops 4] [--out live_calls]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import live_ingress, live_workers  # noqa: E402
from benchmarks._django import write_results  # noqa: E402
from benchmarks.callset import channel, portal, synth  # noqa: E402
from benchmarks.callset.live_scripts import SETS, LiveScript  # noqa: E402

GAP_SECONDS = 0.4


@dataclass
class RenderedLiveCall:
    pcm: bytes  # 8 kHz 16-bit PCM, as the ingress writes it
    seconds: float
    key_end: float  # seconds into the call at which the key phrase ends
    quoted: tuple[str, ...]
    reference: str


def render(script: LiveScript) -> RenderedLiveCall:
    engine, name = script.voice

    def speak(text: str) -> np.ndarray:
        return synth.espeak(text, name, script.rate) if engine == "espeak" else synth.festival(text, name)

    gap = np.zeros(int(GAP_SECONDS * channel.WIDE_RATE), np.float32)
    parts = [np.zeros(channel.WIDE_RATE // 2, np.float32), speak(script.lead), gap, speak(script.key)]
    key_end = sum(p.size for p in parts) / channel.WIDE_RATE
    wide = np.concatenate(parts + [gap, speak(script.rest), np.zeros(channel.WIDE_RATE, np.float32)])
    narrow = channel.band_limit(channel.resample(wide, channel.WIDE_RATE, channel.PHONE_RATE))
    narrow = narrow * np.float32(0.7 / (float(np.max(np.abs(narrow))) or 1.0))
    heard = channel.mulaw_decode(channel.mulaw_encode(narrow))
    pcm = (np.clip(heard, -1, 1) * 32767).astype("<i2").tobytes()
    return RenderedLiveCall(pcm=pcm, seconds=len(pcm) / 2 / channel.PHONE_RATE, key_end=key_end,
                            quoted=script.quoted, reference=f"{script.lead} {script.key} {script.rest}")


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def _flag_time(case_id: int, quoted: tuple[str, ...]) -> bool:
    from calls.models import Case

    case = Case.objects.get(pk=case_id)
    reasons = " ".join(case.priority_reasons).lower()
    return case.priority_band in ("high", "critical") and any(word in reasons for word in quoted)


async def _watch(sent: list[tuple[live_ingress.LiveCallResult, RenderedLiveCall]], started: float,
                 flagged: dict[int, float], done: asyncio.Event):
    while not done.is_set():
        for result, call in sent:
            case_id = result.case_id  # known once the ingress has opened the call
            if case_id is not None and case_id not in flagged and await asyncio.to_thread(_flag_time, case_id,
                                                                                          call.quoted):
                flagged[case_id] = time.time() - started - call.key_end
        await asyncio.sleep(0.1)


async def _send(ingress: str, call: RenderedLiveCall, result: live_ingress.LiveCallResult, stream, started: float, *,
                key: str, port: int | None, drop_at: float | None) -> live_ingress.LiveCallResult:
    if ingress == "websocket":
        return await live_ingress.websocket_call(call.pcm, started, result, key=key, drop_at=drop_at)
    if ingress == "audiosocket":
        assert port is not None
        return await live_ingress.audiosocket_call(call.pcm, started, result, port=port, drop_at=drop_at)
    return await live_ingress.spool_call(call.pcm, started, result, stream=stream)


def run_calls(calls: list[RenderedLiveCall], user, *, ingress: str, key: str, drops: bool = False,
              worker_kind: str = "process") -> dict:
    """The calls at once over one ingress, followed by a live worker (in a process of its own, as in
    production, or in a thread of this one); with ``drops``, each call's connection dropped once
    (between 30 % and 70 % of it) and continued."""
    import psutil
    from asgiref.sync import sync_to_async

    from analysis.models import LiveReading
    from live.audiosocket import AudioSocketServer

    worker = live_workers.start(worker_kind)
    process = psutil.Process()
    cpu_before = sum(process.cpu_times()[:2])
    tag = f"{int(time.time() * 1000)}"
    prepared = [live_ingress.prepare(ingress, client=user, index=i, tag=tag) for i in range(len(calls))]
    rng = np.random.default_rng(len(calls))
    drop_at = [float(rng.uniform(0.3, 0.7)) * c.seconds if drops else None for c in calls]

    async def drive():
        server = AudioSocketServer() if ingress == "audiosocket" else None
        port = await server.start("127.0.0.1", 0) if server is not None else None
        started = time.time()
        flagged: dict[int, float] = {}
        done = asyncio.Event()
        watcher = asyncio.create_task(_watch([(r, c) for (r, _), c in zip(prepared, calls, strict=True)], started,
                                             flagged, done))
        await asyncio.gather(*(_send(ingress, c, r, stream, started, key=key, port=port, drop_at=at)
                               for (r, stream), c, at in zip(prepared, calls, drop_at, strict=True)))
        case_ids = [r.case_id for r, _ in prepared]
        for _ in range(600):  # the worker's last pass and reading after the hang-up
            await asyncio.sleep(0.1)
            if await sync_to_async(live_workers.all_read)(case_ids):
                break
        await asyncio.sleep(0.5)
        done.set()
        await watcher
        if server is not None:
            await server.close()
        return flagged, started

    try:
        flagged, started = asyncio.run(drive())
        elapsed = time.time() - started
        cpu_here, cpu_worker = sum(process.cpu_times()[:2]) - cpu_before, worker.cpu_seconds()
        cpu = cpu_here + cpu_worker
        rss = process.memory_info().rss / 2**20 + worker.rss_mb()
    finally:
        worker.stop()

    results = [r for r, _ in prepared]
    lags, behind, live_text = [], [], []
    for result, call in zip(results, calls, strict=True):
        readings = list(LiveReading.objects.filter(case_id=result.case_id).order_by("pk"))
        final = readings[-1].words if readings else []
        for index, word in enumerate(final):
            first = next(r for r in readings if len(r.words) > index)
            lags.append(first.created_at.timestamp() - (started + word["end"]))
            if os.environ.get("LIVE_BENCH_DEBUG"):
                print(f"  lag {lags[-1]:.2f} s: {word['word']!r} ending at {word['end']:.1f} s of a "
                      f"{call.seconds:.1f} s call", flush=True)
        behind += [r.behind_seconds for r in readings]
        live_text.append(" ".join(w["word"] for w in final))
    audio_seconds = sum(c.seconds for c in calls)
    sent = sum(r.frames_sent for r in results)
    return {
        "calls": len(calls), "ingress": ingress, "drops": drops, "elapsed_s": round(elapsed, 1),
        "audio_s": round(audio_seconds, 1),
        "flag_s": [round(flagged[r.case_id], 2) if r.case_id in flagged else None for r in results],
        "commit_lag_s": {"p50": _percentile(lags, 50), "p95": _percentile(lags, 95), "words": len(lags)},
        "behind_max_s": round(max(behind), 2) if behind else None,
        "frames": {"sent": sent, "lost": sent - sum(live_ingress.frames_counted(r.call_id) for r in results),
                   "reconnects": sum(r.reconnects for r in results)},
        "cpu_s_per_audio_s": round(cpu / audio_seconds, 3),
        "cpu_s": {"ingress_and_benchmark": round(cpu_here, 1), "worker": round(cpu_worker, 1)},
        "rss_mb": round(rss), "worker": worker_kind,
        "live_text": live_text,
    }


def offline(calls: list[RenderedLiveCall]) -> dict:
    """The after-upload path on the same calls: the batch transcriber (beam 5) and the voice; and the
    live passes' own model and decoding run once over each whole call, which is what streaming alone
    costs the words."""
    from django.conf import settings

    from analysis import pipeline
    from core.speech.whisper import DecodeSettings, WhisperEngine

    engine = WhisperEngine()
    live_model = WhisperEngine(settings=DecodeSettings(beam_size=settings.LIVE_WHISPER_BEAM),
                               model_name=settings.LIVE_WHISPER_MODEL)
    texts, live_model_texts, seconds = [], [], []
    for call in calls:
        samples = channel.resample(np.frombuffer(call.pcm, "<i2").astype(np.float32) / 32768, 8000, 16000)
        begun = time.perf_counter()
        texts.append(engine.run(samples)[0])
        pipeline.classify_samples(samples)
        seconds.append(time.perf_counter() - begun)
        live_model_texts.append(live_model.run(samples)[0])
    return {"texts": texts, "live_model_texts": live_model_texts, "analysis_s": seconds,
            "engine": engine.model, "live_model": live_model.model}


def wer(references: list[str], hypotheses: list[str]) -> float:
    import jiwer

    from benchmarks.callset.mishears import normalise

    return round(jiwer.wer([normalise(r) for r in references], [normalise(h) or "-" for h in hypotheses]), 3)


def _judged(run: dict, calls: list[RenderedLiveCall], after_upload: dict, *, label: str) -> dict:
    """The run's flags and WERs, printed as a line (and the calls never flagged, with what was heard)."""
    n, texts = len(calls), after_upload["texts"]
    flags = [f for f in run["flag_s"] if f is not None]
    run["time_to_flag_s"] = {"p50": _percentile(flags, 50), "p95": _percentile(flags, 95), "flagged": len(flags), "of": n}
    references = [c.reference for c in calls]
    run["wer_live"] = wer(references, run["live_text"])
    run["wer_offline"] = wer(references, [texts[i % len(texts)] for i in range(n)])
    run["wer_live_model_offline"] = wer(references, [after_upload["live_model_texts"][i % len(texts)] for i in range(n)])
    run["calls_per_core_realtime"] = round(1 / run["cpu_s_per_audio_s"], 1) if run["cpu_s_per_audio_s"] else None
    frames = run["frames"]
    print(f"[{label}] {run['ingress']}, {n} calls{', each dropped and reconnected once' if run['drops'] else ''}: "
          f"time to flag p50 {run['time_to_flag_s']['p50']} s, p95 {run['time_to_flag_s']['p95']} s "
          f"({len(flags)}/{n} flagged); committed words behind speech p50 {run['commit_lag_s']['p50']} s, "
          f"p95 {run['commit_lag_s']['p95']} s (worst reported {run['behind_max_s']} s); "
          f"WER live {run['wer_live']} vs offline {run['wer_live_model_offline']} ({after_upload['live_model']}, the "
          f"whole call) and {run['wer_offline']} ({after_upload['engine']}, the analysis at hang-up); "
          f"frames lost {frames['lost']} of {frames['sent']} ({frames['reconnects']} reconnects); "
          f"CPU {run['cpu_s_per_audio_s']} s per audio s ({run['calls_per_core_realtime']} calls per core); "
          f"RSS {run['rss_mb']} MB", flush=True)
    for call, flag, text in zip(calls, run["flag_s"], run["live_text"], strict=True):
        if flag is None:
            print(f"  not flagged (quoting {call.quoted}): heard {text!r}", flush=True)
    return run


def run_set(name: str, args: argparse.Namespace, ingresses: list[str], client, key: str) -> dict:
    """Every run of the plan on one set of calls, and the after-upload path on the same calls."""
    from analysis import dispatch

    rendered = [render(script) for script in SETS[name]]
    after_upload = offline(rendered)
    plan = [(ingress, int(n), False) for ingress in ingresses for n in args.calls.split(",") if n]
    plan += [(ingress, int(n), True) for ingress in ingresses if ingress != "spool" for n in args.drops.split(",") if n]
    results = []
    for ingress, n, drops in plan:
        calls = [rendered[i % len(rendered)] for i in range(n)]
        dispatch.wait_for_inprocess(timeout=300)  # the last run's hang-up analyses, not beside this run's calls
        run = run_calls(calls, client.user, ingress=ingress, key=key, drops=drops, worker_kind=args.worker)
        results.append(_judged(run, calls, after_upload, label=name))
    upload = [c.seconds + s for c, s in zip(rendered, after_upload["analysis_s"], strict=True)]
    key_to_end = [c.seconds + s - c.key_end for c, s in zip(rendered, after_upload["analysis_s"], strict=True)]
    after = {"call_plus_analysis_s": {"p50": _percentile(upload, 50), "p95": _percentile(upload, 95)},
             "from_key_phrase_end_s": {"p50": _percentile(key_to_end, 50), "p95": _percentile(key_to_end, 95)}}
    print(f"[{name}] after upload: from the key phrase's end to a verdict p50 {after['from_key_phrase_end_s']['p50']} s,"
          f" p95 {after['from_key_phrase_end_s']['p95']} s (the rest of the call + the analysis)", flush=True)
    return {"after_upload": after, "runs": results,
            "calls": [{"seconds": round(c.seconds, 1), "key_end": round(c.key_end, 1)} for c in rendered]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="1,2,4,8", help="numbers of concurrent calls (default 1,2,4,8)")
    parser.add_argument("--set", default="heldout",
                        help="sets of calls, of tuning (the live settings were chosen on it) and heldout "
                             "(never tuned on; benchmarks/callset/live_scripts.py); default heldout")
    parser.add_argument("--ingress", default="websocket,audiosocket",
                        help=f"ingresses to stream over, of {', '.join(live_ingress.INGRESSES)} (default websocket,audiosocket)")
    parser.add_argument("--drops", default="4", help="numbers of calls for the runs in which every call's connection "
                                                     "drops once and reconnects (default 4; empty: none)")
    parser.add_argument("--worker", default="process", choices=live_workers.WORKER_KINDS,
                        help="the live worker in a process of its own, as in production (default), or in a thread "
                             "of the benchmark's process, beside the ingress")
    parser.add_argument("--out", default="live_calls")
    args = parser.parse_args()
    ingresses = [i for i in args.ingress.split(",") if i]
    if unknown := set(ingresses) - set(live_ingress.INGRESSES):
        parser.error(f"unknown ingress {', '.join(sorted(unknown))}: choose from {', '.join(live_ingress.INGRESSES)}")
    sets = [s for s in args.set.split(",") if s]
    if unknown := set(sets) - set(SETS):
        parser.error(f"unknown set {', '.join(sorted(unknown))}: choose from {', '.join(SETS)}")
    portal.setup()
    from accounts.api_keys import api_key_issue, integration_client_create
    from accounts.models import User
    from analysis import dispatch

    admin, _ = User.objects.get_or_create(username="live-bench-admin", defaults={"role": "admin"})
    client = integration_client_create(admin=admin, name=f"live-bench-{int(time.time())}")
    _, key = api_key_issue(admin=admin, client=client, name="bench")
    summary: dict[str, Any] = {"sets": {name: run_set(name, args, ingresses, client, key) for name in sets}}
    write_results(args.out, summary)
    dispatch.wait_for_inprocess(timeout=60)  # the last re-scores' broadcasts, before the interpreter ends


if __name__ == "__main__":
    main()
