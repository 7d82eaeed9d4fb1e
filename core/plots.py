"""Pictures of a call for the case page: waveform over a log-mel spectrogram. Plain Python."""

from __future__ import annotations

import io

import numpy as np


def call_picture(samples: np.ndarray, sample_rate: int = 16_000) -> bytes:
    """PNG bytes: waveform (top) and log-mel spectrogram (bottom) sharing one time axis."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    seconds = np.arange(samples.size) / sample_rate
    mel = librosa.feature.melspectrogram(y=samples, sr=sample_rate, n_fft=512, hop_length=160, n_mels=64)
    mel_db = librosa.power_to_db(mel, ref=np.max(mel) if mel.size and np.max(mel) > 0 else 1.0)
    figure = Figure(figsize=(8, 3.2), dpi=100, layout="constrained")
    wave_axes, spec_axes = figure.subplots(2, 1, sharex=True, height_ratios=[1, 2])
    step = max(1, samples.size // 4000)  # the eye cannot see more points than this
    wave_axes.plot(seconds[::step], samples[::step], linewidth=0.6, color="#0d6efd")
    wave_axes.set_ylabel("amplitude")
    wave_axes.set_ylim(-1, 1)
    duration = samples.size / sample_rate
    spec_axes.imshow(mel_db, origin="lower", aspect="auto", extent=(0, duration, 0, 64), cmap="magma")
    spec_axes.set_ylabel("mel band")
    spec_axes.set_xlabel("seconds")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
