"""G.711 mu-law to and from 16-bit linear PCM, with numpy tables (audioop is deprecated in 3.11
and gone in 3.13). Pure code: the ingress decodes with it, the replay clients and tests encode."""

from __future__ import annotations

import numpy as np

_BIAS = 0x84


def _decode_table() -> np.ndarray:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(code & 0x80, -magnitude, magnitude).astype("<i2")


MULAW_TO_L16 = _decode_table()


def mulaw_decode(data: bytes) -> bytes:
    """mu-law bytes -> 16-bit little-endian PCM bytes (two per sample)."""
    return MULAW_TO_L16[np.frombuffer(data, dtype=np.uint8)].tobytes()


def mulaw_encode(pcm: bytes) -> bytes:
    """16-bit little-endian PCM -> mu-law bytes (lossy), rounding as the G.711 reference code does
    (on the 14-bit value, so the same bytes as audioop.lin2ulaw)."""
    value = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 2
    negative = value < 0
    magnitude = np.minimum(np.where(negative, -value, value), 8159) + 33
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude)
    code = np.where(segment > 7, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))  # beyond: clipped
    return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8).tobytes()


_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
