"""Scripts to audio: a voice speaks the script (16 kHz mono), then the call goes through the
telephone channel (channel.py) and comes out as the 8 kHz mu-law WAV a phone system would send.

Speech engines: espeak-ng, and Debian's festival (``text2wave``) for held-out voices. Silent calls
are synthesised: line hiss only, breathing, a bad line, or a few mumbled syllables over breathing.
Everything is deterministic from (seed, script id, condition); rendered audio is cached under
``cache_dir`` (default $CALL_BENCH_CACHE or /tmp/call_bench), keyed by what made it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from . import channel
from .scripts import Script
from .voices import Voice, seed_of

WIDE = channel.WIDE_RATE
RENDER_VERSION = 1  # bump when rendering changes: cached files are keyed by it
SILENT_SECONDS = (4.0, 8.0)
BABBLE_TALKERS = 7
BABBLE_SECONDS = 60.0
BABBLE_VOICES = ("en-us+Andy", "en-gb+Annie", "en-us+boris", "en-gb+linda", "en-us+john", "en-gb+max",
                 "en-us+michel", "en-gb+paul")
BABBLE_TEXT = (
    "the shop on the corner opens at nine and the buses are always full in the morning. "
    "we went to the market on saturday and bought vegetables, rice and a new bucket. "
    "my cousin works in an office near the station and comes home late every evening. "
    "the weather was pleasant yesterday, so the children played outside until dinner. "
)


def default_cache_dir() -> Path:
    return Path(os.environ.get("CALL_BENCH_CACHE", "/tmp/call_bench"))


# -- speech engines -----------------------------------------------------------------------------


def _read(path: Path) -> np.ndarray:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return channel.resample(data.mean(axis=1), rate, WIDE)


def espeak(text: str, voice: str, rate: int = 160, pitch: int = 50, amplitude: int = 100) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-a", str(amplitude),
                        "-w", str(out), text], check=True, capture_output=True)
        return _read(out)


def festival(text: str, voice: str, stretch: float = 1.0, f0_mean: int = 0) -> np.ndarray:
    evals = [f"(voice_{voice})"]
    if stretch != 1.0:
        evals.append(f"(Parameter.set 'Duration_Stretch {stretch})")
    if f0_mean:
        evals.append(f"(set! int_lr_params '((target_f0_mean {f0_mean}) (target_f0_std {max(10, f0_mean // 8)}) "
                     "(model_f0_mean 170) (model_f0_std 34)))")
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "text.txt", Path(tmp) / "speech.wav"
        source.write_text(text, encoding="utf-8")
        command = ["text2wave"] + [part for e in evals for part in ("-eval", e)] + ["-o", str(out), str(source)]
        try:
            subprocess.run(command, check=True, capture_output=True)
        except FileNotFoundError as exc:
            raise RuntimeError("festival is not installed (Debian: festival festvox-kallpc16k "
                               "festvox-kdlpc16k festvox-us-slt-hts); see scripts/system-deps.sh --test") from exc
        return _read(out)


def speak(text: str, voice: Voice) -> np.ndarray:
    if voice.engine == "espeak":
        return espeak(text, voice.name, int(voice.rate), voice.pitch)
    if voice.engine == "festival":
        return festival(text, voice.name, voice.rate, voice.pitch)
    raise ValueError(f"voice {voice.id} cannot speak")


# -- what the caller's end sounds like ----------------------------------------------------------


def caller_audio(script: Script, voice: Voice, seed: int) -> np.ndarray:
    """The caller's end at 16 kHz: the spoken script, or a silent call's sounds."""
    if script.kind != "silent":
        return speak(script.text, voice)
    rng = np.random.default_rng(seed_of(seed, "silent", script.id))
    n = int(rng.uniform(*SILENT_SECONDS) * WIDE)
    if script.subkind == "silence":
        return np.zeros(n, np.float32)
    if script.subkind == "line_noise":
        return channel.line_noise(n, rng)
    out = channel.breathing(n, rng)
    if script.subkind == "mumble":
        quiet = 0.1 * speak(script.text, voice)[:n]
        start = int(rng.integers(0, max(1, n - len(quiet))))
        out[start: start + len(quiet)] += quiet
    return out


def babble(seed: int = 112, cache_dir: Path | None = None) -> np.ndarray:
    """A minute of crowd babble: several talkers' speech, reversed (unintelligible), overlapped."""
    path = cache_dir / f"babble-v{RENDER_VERSION}-{seed}.flac" if cache_dir else None
    if path is not None and path.exists():
        return sf.read(str(path), dtype="float32")[0]
    rng = np.random.default_rng(seed_of(seed, "babble"))
    n = int(BABBLE_SECONDS * WIDE)
    out = np.zeros(n, np.float32)
    for talker in range(BABBLE_TALKERS):
        voice = BABBLE_VOICES[talker % len(BABBLE_VOICES)]
        speech = espeak(BABBLE_TEXT, voice, int(rng.integers(140, 180)), int(rng.integers(20, 80)))[::-1]
        speech = np.tile(speech, int(np.ceil(n / len(speech))) + 1)
        start = int(rng.integers(0, len(speech) - n))
        part = speech[start: start + n]
        out += part / (np.std(part) or 1.0) * np.float32(rng.uniform(0.6, 1.0))
    out = (out / np.max(np.abs(out))).astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), out, WIDE, format="FLAC")
    return out


def background(kind: str, n: int, seed: int, cache_dir: Path | None) -> np.ndarray:
    if kind == "babble":
        bed = babble(cache_dir=cache_dir)
        return np.tile(bed, int(np.ceil(n / len(bed))) + 1)[: n + WIDE]
    return channel.street_noise(n + WIDE, np.random.default_rng(seed_of(seed, "street", n)))


# -- a whole call ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedCall:
    wav: bytes  # 8 kHz G.711 mu-law WAV
    info: dict  # condition, noise, packets lost, seconds


def call_key(script: Script, voice: Voice, condition: str, seed: int) -> str:
    digest = hashlib.sha256(repr((RENDER_VERSION, seed, script.text, script.kind, script.subkind, voice,
                                  condition)).encode()).hexdigest()[:12]
    return f"{script.id}--{voice.id.replace(':', '_').replace('+', '_')}--{condition}--{digest}"


def render_call(script: Script, voice: Voice, condition: str, *, seed: int = 112,
                cache_dir: Path | None = None) -> RenderedCall:
    """The call as the portal receives it; cached under cache_dir when one is given."""
    key = call_key(script, voice, condition, seed)
    wav_path = cache_dir / "calls" / f"{key}.wav" if cache_dir else None
    if wav_path is not None and wav_path.exists() and wav_path.with_suffix(".json").exists():
        return RenderedCall(wav_path.read_bytes(), json.loads(wav_path.with_suffix(".json").read_text()))
    speech = caller_audio(script, voice, seed)
    cond = channel.CONDITIONS[condition]
    rng = np.random.default_rng(seed_of(seed, "channel", script.id, condition))
    noise_kind = channel.NOISES[seed_of(seed, "noise", script.id) % len(channel.NOISES)]
    noise = background(noise_kind, len(speech) + 2 * WIDE, seed_of(seed, script.id), cache_dir) \
        if cond.snr_db is not None else None
    codes, info = channel.telephone_call(speech, cond, rng, noise=noise)
    info["noise"] = noise_kind if noise is not None else ""
    wav = channel.mulaw_wav(codes)
    if wav_path is not None:
        wav_path.parent.mkdir(parents=True, exist_ok=True)
        wav_path.write_bytes(wav)
        wav_path.with_suffix(".json").write_text(json.dumps(info))
    return RenderedCall(wav, info)


def decode_call(wav: bytes) -> np.ndarray:
    """A rendered call back to 8 kHz float samples (for checks and listening)."""
    return channel.mulaw_decode(channel.read_mulaw_wav(wav))


def to_wav16(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()
