"""Server-rendered pictures for the pages (audit dashboard, operations panel, dataset explorer): PNG,
matplotlib. Plain Python, no Django."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _figure(width: float = 6.4, height: float = 3.2) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def confusion_png(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str, *,
                  rows: str = "supervisors said", columns: str = "the system said") -> bytes:
    """Rows: the reference (supervisors' category, a clip's label); columns: the system's; each row
    shaded by its own share."""
    cm = np.asarray(matrix, dtype=float)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    figure = _figure(5.6, 4.8)
    ax = figure.subplots()
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel(columns)
    ax.set_ylabel(rows)
    ax.set_title(title, fontsize=9)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if share[i, j] > 0.5 else "black")
    return _png(figure)


def lines_png(x: Sequence[str], series: dict[str, Sequence[float | None]], title: str, ylabel: str,
              ylim: tuple[float, float] | None = None) -> bytes:
    figure = _figure()
    ax = figure.subplots()
    for name, values in series.items():
        ax.plot(list(x), [np.nan if v is None else v for v in values], marker="o", label=name)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    if series:
        ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    if not x:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    return _png(figure)


def bars_png(labels: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str) -> bytes:
    figure = _figure()
    ax = figure.subplots()
    width = 0.8 / max(1, len(series))
    positions = np.arange(len(labels))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(positions + i * width, list(values), width, label=name)
    ax.set_xticks(positions + width * (len(series) - 1) / 2, list(labels))
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(fontsize=8)
    if not labels:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    return _png(figure)


def boxes_png(groups: Mapping[str, Sequence[float]], title: str, ylabel: str) -> bytes:
    """One box per group (e.g. per emotion label), with the count under each name."""
    figure = _figure(6.4, 3.4)
    ax = figure.subplots()
    names = [name for name, values in groups.items() if len(values)]
    if names:
        ax.boxplot([list(groups[n]) for n in names], showfliers=True)
        ax.set_xticks(range(1, len(names) + 1), [f"{n}\n({len(groups[n])})" for n in names], fontsize=8)
    else:
        ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel)
    return _png(figure)
