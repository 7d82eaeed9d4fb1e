"""Compile librosa's numba kernels once, in one process, before any parallel work.

numba caches compiled kernels on disk, and its cache is not safe against two processes
compiling different signatures of the same kernel at once (both pick the same data file, and
the index then points one signature at the other's machine code: a segfault on load). So every
kernel the portal uses is compiled here, for float32 and float64, before workers fork or start.
"""

from __future__ import annotations

import numpy as np


def compile_kernels() -> None:
    from core.emotion.features import frame_features, prepare
    from core.emotion.gender import median_f0
    from core.plots import call_picture

    noise = (np.random.default_rng(0).standard_normal(16_000) * 0.05).astype(np.float32)
    for samples in (noise, noise.astype(np.float64)):
        frame_features(prepare(samples.astype(np.float32)))
        median_f0(samples, 16_000)  # pyin: parabolic interpolation and Viterbi kernels
    call_picture(noise)
