"""Human speech for the transcriber-confidence figure: RAVDESS and EmoDB clips through the same
telephone channel. They are not emergency calls: only how sure the transcriber was (and its WER on
RAVDESS, whose two sentences are known) is reported. EmoDB is German: Whisper tiny.en cannot
transcribe it, so it shows how confident the transcriber is on words it cannot know.

The corpora are read where they are (../shared/data, read-only); nothing is copied into the repo.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import channel
from .voices import seed_of

DATA = Path(os.environ.get("SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
RAVDESS_SENTENCES = {"1": "Kids are talking by the door", "2": "Dogs are sitting by the door"}
RENDER_VERSION = 1


@dataclass(frozen=True)
class HumanClip:
    id: str
    corpus: str  # 'ravdess' | 'emodb'
    path: Path
    emotion: str
    speaker: str
    reference: str  # the words said ('' when unknown or not English)


def ravdess_dir() -> Path:
    return Path(os.environ.get("RAVDESS_DIR", DATA / "ravdess"))


def emodb_dir() -> Path:
    return Path(os.environ.get("EMODB_DIR", DATA / "emodb"))


def _spread(rows: list[dict], per_group: int, group: str, speaker: str, seed: int, tag: str) -> list[dict]:
    """per_group rows of each group, in a seeded order that takes a new speaker while it can."""
    chosen = []
    for name in sorted({r[group] for r in rows}):
        members = sorted((r for r in rows if r[group] == name), key=lambda r: seed_of(seed, tag, r["path"]))
        picked: list[dict] = []
        while len(picked) < min(per_group, len(members)):
            used = {r[speaker] for r in picked}
            fresh = [r for r in members if r not in picked and r[speaker] not in used]
            picked.append((fresh or [r for r in members if r not in picked])[0])
        chosen += picked
    return chosen


def human_clips(ravdess_per_emotion: int = 12, emodb_per_emotion: int = 6, seed: int = 112) -> list[HumanClip]:
    """A stratified, seeded choice: every emotion, many speakers, both RAVDESS sentences."""
    clips: list[HumanClip] = []
    meta = ravdess_dir() / "metadata.csv"
    if meta.exists() and ravdess_per_emotion:
        with open(meta, newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in _spread(rows, ravdess_per_emotion, "emotion", "actor", seed, "ravdess"):
            clips.append(HumanClip(f"RAV-{Path(r['path']).stem}", "ravdess", ravdess_dir() / r["path"], r["emotion"],
                                   r["actor"], RAVDESS_SENTENCES[r["statement"]]))
    meta = emodb_dir() / "metadata.csv"
    if meta.exists() and emodb_per_emotion:
        with open(meta, newline="") as fh:
            rows = list(csv.DictReader(fh))
        for r in _spread(rows, emodb_per_emotion, "emotion", "speaker", seed, "emodb"):
            clips.append(HumanClip(f"EMO-{Path(r['path']).stem}", "emodb", emodb_dir() / r["path"], r["emotion"],
                                   r["speaker"], ""))
    return clips


def render_human(clip: HumanClip, condition: str, *, seed: int = 112, cache_dir: Path | None = None) -> tuple[bytes, dict]:
    """The clip as a phone call (8 kHz mu-law WAV bytes) and what the channel did; cached."""
    from core import audio

    from .synth import background

    path = cache_dir / "human" / f"{clip.id}--{condition}--v{RENDER_VERSION}-{seed}.wav" if cache_dir else None
    if path is not None and path.exists() and path.with_suffix(".json").exists():
        return path.read_bytes(), json.loads(path.with_suffix(".json").read_text())
    speech = audio.load(clip.path)
    cond = channel.CONDITIONS[condition]
    noise_kind = channel.NOISES[seed_of(seed, "noise", clip.id) % len(channel.NOISES)]
    noise = background(noise_kind, len(speech) + 2 * channel.WIDE_RATE, seed_of(seed, clip.id), cache_dir) \
        if cond.snr_db is not None else None
    codes, info = channel.telephone_call(speech, cond, np.random.default_rng(seed_of(seed, "channel", clip.id, condition)),
                                         noise=noise)
    info["noise"] = noise_kind if noise is not None else ""
    wav = channel.mulaw_wav(codes)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav)
        path.with_suffix(".json").write_text(json.dumps(info))
    return wav, info
