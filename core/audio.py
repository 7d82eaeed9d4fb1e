"""Audio decoding and normalisation: plain Python, no Django.

Every recording is decoded once (PyAV, i.e. FFmpeg's decoders) and resampled to
16 kHz mono float32 at intake; everything downstream reads that normalised copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, cast

import av
import numpy as np
import soundfile as sf

TARGET_SAMPLE_RATE = 16_000
# Below this RMS (about -60 dBFS) a recording holds no usable sound.
SILENCE_RMS = 1e-3


class SeekableReader(Protocol):
    """A binary file object that can be rewound: an open file, io.BytesIO, a Django File."""

    def read(self, size: int, /) -> bytes: ...

    def seek(self, offset: int, /) -> int: ...


class AudioError(ValueError):
    """Audio that cannot be used; the message is meant for the person who supplied it."""


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # float32, mono, in [-1, 1], at `sample_rate`
    sample_rate: int
    source_sample_rate: int
    source_channels: int
    source_format: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def decode(
    source: str | Path | BinaryIO,
    *,
    sample_rate: int = TARGET_SAMPLE_RATE,
    max_seconds: float | None = None,
) -> DecodedAudio:
    """Decode any container FFmpeg knows (wav, mp3, ogg, webm/opus, flac, m4a) to mono float32.

    Raises AudioError for empty, corrupt or non-audio input, and for audio longer than
    `max_seconds` (decoding stops there, so a two-hour file costs no more than the limit).
    """
    try:
        container = av.open(source, mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise AudioError("The file is not a recognisable audio file.") from exc
    with container:
        if not container.streams.audio:
            raise AudioError("The file contains no audio stream.")
        stream = container.streams.audio[0]
        source_rate = stream.codec_context.sample_rate or 0
        source_channels = stream.codec_context.channels or 0
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        limit = int(max_seconds * sample_rate) if max_seconds else None
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if limit is not None and total > limit:
                    raise AudioError(
                        "The recording is longer than the maximum of "
                        f"{cast(float, max_seconds) / 60:g} minutes."
                    )
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise AudioError("The audio data is corrupt and cannot be decoded.") from exc
        fmt = container.format.name
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if samples.size == 0:
        raise AudioError("The file contains no audio samples.")
    np.clip(samples, -1.0, 1.0, out=samples)
    return DecodedAudio(
        samples=samples,
        sample_rate=sample_rate,
        source_sample_rate=source_rate,
        source_channels=source_channels,
        source_format=fmt,
    )


def load(path: str | Path, *, sample_rate: int = TARGET_SAMPLE_RATE) -> np.ndarray:
    """Load a file as mono float32 at `sample_rate`; fast path for already-normalised files."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError):
        info = None
    if info is not None and info.samplerate == sample_rate:
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
        mono: np.ndarray = data.mean(axis=1).astype(np.float32)
        return mono
    return decode(path, sample_rate=sample_rate).samples


def write_wav(
    target: str | Path | BinaryIO, samples: np.ndarray, sample_rate: int = TARGET_SAMPLE_RATE
) -> None:
    """16-bit PCM WAV to a path or a binary file object."""
    destination = str(target) if isinstance(target, (str, Path)) else target
    sf.write(destination, samples, sample_rate, subtype="PCM_16", format="WAV")


def rms(samples: np.ndarray) -> float:
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def is_silent(samples: np.ndarray, threshold: float = SILENCE_RMS) -> bool:
    """True when the loudest 50 ms window is still below the silence threshold."""
    window = TARGET_SAMPLE_RATE // 20
    if samples.size < window:
        return rms(samples) < threshold
    usable = samples[: samples.size // window * window].reshape(-1, window)
    loudest = np.sqrt(np.mean(np.square(usable, dtype=np.float64), axis=1)).max()
    return bool(loudest < threshold)


def trim_silence(samples: np.ndarray, *, top_db: float = 30.0) -> np.ndarray:
    """Cut leading and trailing silence (relative to the clip's peak); never returns empty."""
    import librosa  # lazy: librosa's import costs a second and the web process rarely needs it

    if samples.size == 0:
        return samples
    trimmed, _ = librosa.effects.trim(samples, top_db=top_db, frame_length=512, hop_length=128)
    return trimmed if trimmed.size else samples


def normalise_loudness(samples: np.ndarray, *, target_rms: float = 0.05) -> np.ndarray:
    """Scale to a fixed RMS (about -26 dBFS), with a peak guard; silence is left as it is."""
    level = rms(samples)
    if level < 1e-6:
        return samples.astype(np.float32)
    gain = target_rms / level
    peak = float(np.max(np.abs(samples))) * gain
    if peak > 0.99:
        gain *= 0.99 / peak
    return (samples * gain).astype(np.float32)


def sha256_of(fileobj: SeekableReader) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    for block in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(block)
    fileobj.seek(0)
    return digest.hexdigest()
