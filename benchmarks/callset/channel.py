"""The telephone channel a scripted call goes through, deterministic from a seed.

At the caller's end: the voice, with background noise (babble or street, synthesised) at a set
signal-to-noise ratio and a faint line hiss. Then the network: resampled to 8 kHz, band-limited to
300-3400 Hz, G.711 mu-law encoded (bit-exact, in numpy), and 20 ms packets lost (filled with
mu-law silence, no concealment). What comes out is what a phone system would push to the portal:
8 kHz mu-law WAV bytes.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np

WIDE_RATE = 16_000
PHONE_RATE = 8_000
FRAME = 160  # samples of one 20 ms packet at 8 kHz
BAND = (300.0, 3400.0)
MULAW_SILENCE = 0xFF
_BIAS = 0x84
_CLIP = 32635


@dataclass(frozen=True)
class Condition:
    name: str
    snr_db: float | None  # background noise at this SNR (None: none but the line hiss)
    loss: float  # fraction of 20 ms packets lost

    def describe(self) -> str:
        parts = ["phone channel"]
        if self.snr_db is not None:
            parts.append(f"noise at {self.snr_db:g} dB SNR")
        if self.loss:
            parts.append(f"{self.loss:.0%} packets lost")
        return ", ".join(parts)


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("phone", None, 0.0),
    Condition("noisy15", 15.0, 0.0),
    Condition("noisy5", 5.0, 0.0),
    Condition("loss5", None, 0.05),
    Condition("loss15", None, 0.15),
)}
NOISES = ("babble", "street")


# -- G.711 mu-law ------------------------------------------------------------------------------


def mulaw_encode(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] to G.711 mu-law codes (uint8), as the ITU-T reference encoder does
    on 16-bit linear PCM."""
    pcm = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int32)
    negative = pcm < 0
    magnitude = np.minimum(np.where(negative, -pcm, pcm), _CLIP) + _BIAS
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    code = (negative.astype(np.int32) << 7) | (exponent << 4) | mantissa
    return (~code & 0xFF).astype(np.uint8)


def mulaw_decode(codes: np.ndarray) -> np.ndarray:
    """G.711 mu-law codes back to float samples in [-1, 1]."""
    code = ~np.asarray(codes, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = (((code & 0x0F) << 3) + _BIAS) << exponent
    pcm = np.where(code & 0x80, _BIAS - magnitude, magnitude - _BIAS)
    return (pcm / 32768.0).astype(np.float32)


def mulaw_levels() -> np.ndarray:
    """The 256 values a decoded mu-law sample can take."""
    return mulaw_decode(np.arange(256, dtype=np.uint8))


def mulaw_wav(codes: np.ndarray, rate: int = PHONE_RATE) -> bytes:
    """A WAV file (format 7, G.711 mu-law, mono) holding the codes as they are."""
    data = np.asarray(codes, dtype=np.uint8).tobytes()
    fmt = struct.pack("<HHIIHHH", 7, 1, rate, rate, 1, 8, 0)
    fact = struct.pack("<I", len(data))
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact
            + b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b""))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def read_mulaw_wav(data: bytes) -> np.ndarray:
    """The codes of a WAV written by :func:`mulaw_wav`."""
    stream = io.BytesIO(data)
    if stream.read(4) != b"RIFF":
        raise ValueError("not a RIFF file")
    stream.read(8)
    while True:
        head = stream.read(8)
        if len(head) < 8:
            raise ValueError("no data chunk")
        name, size = head[:4], struct.unpack("<I", head[4:])[0]
        chunk = stream.read(size + (size % 2))
        if name == b"data":
            return np.frombuffer(chunk[:size], dtype=np.uint8).copy()


# -- signal helpers ----------------------------------------------------------------------------


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    import soxr

    if rate_in == rate_out:
        return np.asarray(samples, dtype=np.float32)
    return np.asarray(soxr.resample(np.asarray(samples, dtype=np.float32), rate_in, rate_out, quality="HQ"),
                      dtype=np.float32)


def band_limit(samples: np.ndarray, rate: int = PHONE_RATE) -> np.ndarray:
    """The telephone band, 300-3400 Hz (a 6th-order Butterworth band-pass, zero phase)."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(6, BAND, btype="bandpass", fs=rate, output="sos")
    x = np.asarray(samples, dtype=np.float64)
    if x.size <= 3 * 2 * sos.shape[0]:
        return x.astype(np.float32)
    return sosfiltfilt(sos, x).astype(np.float32)


def active_power(speech: np.ndarray, rate: int = WIDE_RATE) -> float:
    """Mean power of the speech's active 20 ms frames (within 35 dB of the loudest)."""
    n = max(1, rate // 50)
    frames = speech[: len(speech) // n * n].reshape(-1, n) if len(speech) >= n else speech.reshape(1, -1)
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    if power.max() <= 0:
        return 0.0
    return float(power[power >= power.max() * 10 ** -3.5].mean())


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Speech plus noise scaled so that active speech power / noise power = snr_db."""
    p_speech, p_noise = active_power(speech), float(np.mean(np.square(noise, dtype=np.float64)))
    if p_speech <= 0 or p_noise <= 0:
        return (speech + noise).astype(np.float32)
    scale = np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10.0)))
    return (speech + scale * noise).astype(np.float32)


def drop_packets(codes: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Lose round(fraction x packets) 20 ms packets, chosen by rng; returns (codes, packets lost)."""
    out = np.asarray(codes, dtype=np.uint8).copy()
    packets = int(np.ceil(len(out) / FRAME))
    lost = int(round(fraction * packets))
    for p in rng.choice(packets, size=lost, replace=False) if lost else []:
        out[int(p) * FRAME: (int(p) + 1) * FRAME] = MULAW_SILENCE
    return out, lost


def telephone_call(speech: np.ndarray, condition: Condition, rng: np.random.Generator, *,
                   noise: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """A 16 kHz voice through the channel: (8 kHz mu-law codes, what was done). `noise` (16 kHz,
    at least as long as the padded call) is the background for a noisy condition."""
    lead, tail = (int(rng.uniform(0.4, 1.0) * WIDE_RATE) for _ in range(2))
    x = np.concatenate([np.zeros(lead, np.float32), np.asarray(speech, np.float32), np.zeros(tail, np.float32)])
    if condition.snr_db is not None:
        if noise is None or len(noise) < len(x):
            raise ValueError("a noisy condition needs a noise at least as long as the call")
        start = int(rng.integers(0, len(noise) - len(x) + 1))
        x = mix_at_snr(x, noise[start: start + len(x)], condition.snr_db)
    reference = active_power(np.asarray(speech, np.float32)) or 1e-6
    x = x + rng.standard_normal(len(x)).astype(np.float32) * np.float32(np.sqrt(reference * 10 ** -5.0))
    narrow = band_limit(resample(x, WIDE_RATE, PHONE_RATE))
    peak = float(np.max(np.abs(narrow))) or 1.0
    narrow = narrow * np.float32(0.7 / peak)  # the handset's gain: loud, never clipped
    codes, lost = drop_packets(mulaw_encode(narrow), condition.loss, rng)
    return codes, {"condition": condition.name, "snr_db": condition.snr_db, "packets_lost": lost,
                   "seconds": round(len(codes) / PHONE_RATE, 3)}


# -- synthesised backgrounds -------------------------------------------------------------------


def street_noise(n: int, rng: np.random.Generator, rate: int = WIDE_RATE) -> np.ndarray:
    """Traffic: rumble (brown noise), engines idling, vehicles passing, now and then a horn."""
    t = np.arange(n) / rate
    brown = np.cumsum(rng.standard_normal(n))
    brown -= np.convolve(brown, np.ones(801) / 801, mode="same")  # no drift
    out = brown / (np.std(brown) or 1.0)
    for _ in range(3):  # idling engines: a low hum with harmonics, slowly wobbling
        f0 = rng.uniform(25, 45)
        wobble = 1 + 0.02 * np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * t)
        out += sum(0.3 / k * np.sin(2 * np.pi * f0 * k * t * wobble + rng.uniform(0, 6.3)) for k in range(1, 6))
    white = rng.standard_normal(n)
    for _ in range(max(1, n // (rate * 4))):  # passing vehicles: swelling broadband noise
        centre, width = rng.uniform(0, n / rate), rng.uniform(1.0, 3.0)
        out += 1.5 * white * np.exp(-0.5 * ((t - centre) / (width / 2)) ** 2)
    for _ in range(max(1, n // (rate * 6))):  # horns: two tones for a moment
        start, length = int(rng.uniform(0, n)), int(rng.uniform(0.2, 0.6) * rate)
        seg = t[start: start + length] - t[start]
        tone = sum(np.sign(np.sin(2 * np.pi * f * seg)) for f in (rng.uniform(380, 440), rng.uniform(480, 540)))
        out[start: start + len(seg)] += 0.8 * tone * np.minimum(1, np.minimum(seg, seg[-1] - seg) * 40)
    return (out / (np.max(np.abs(out)) or 1.0)).astype(np.float32)


def breathing(n: int, rng: np.random.Generator, rate: int = WIDE_RATE, level: float = 0.05) -> np.ndarray:
    """Someone breathing close to the phone: band-passed noise in inhale/exhale swells."""
    from scipy.signal import butter, sosfilt

    t = np.arange(n) / rate
    period = rng.uniform(2.5, 4.0)
    phase = (t / period + rng.uniform(0, 1)) % 1.0
    envelope = np.where(phase < 0.4, np.sin(np.pi * phase / 0.4), 0.6 * np.sin(np.pi * np.clip((phase - 0.45) / 0.5, 0, 1)))
    sos = butter(2, [300, 2000], btype="bandpass", fs=rate, output="sos")
    air = sosfilt(sos, rng.standard_normal(n))
    return (level * envelope ** 2 * air / (np.std(air) or 1.0)).astype(np.float32)


def line_noise(n: int, rng: np.random.Generator, rate: int = WIDE_RATE, level: float = 0.02) -> np.ndarray:
    """A bad line: mains hum and its harmonics, crackles, hiss."""
    t = np.arange(n) / rate
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.3)) / k for k in (1, 2, 3, 5))
    crackle = np.zeros(n)
    clicks = rng.integers(0, n, size=max(1, n // 800))
    crackle[clicks] = rng.uniform(-8, 8, size=len(clicks))
    hiss = 0.3 * rng.standard_normal(n)
    return (level * (hum + crackle + hiss)).astype(np.float32)
