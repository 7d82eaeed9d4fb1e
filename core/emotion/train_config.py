"""Settings of a training run, checked once for the library, the command and the pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; invalid values raise ValueError here, for the library and the command."""

    epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 1e-3
    seed: int = 1234
    n_augment: int = 2  # random augmented copies per training clip (plus clean + telephone)
    label_smoothing: float = 0.1
    # CNNs trained with seeds seed, seed+1, ... whose probabilities are averaged: the same
    # settings give members that disagree on hard clips; their mean is steadier.
    ensemble: int = 1
    arch: dict[str, Any] = field(
        default_factory=lambda: {
            "kind": "cnn1d",
            "filters": [64, 96, 128, 160],
            "kernels": [5, 5, 3, 3],
            "spatial_dropout": 0.1,
            "dropout": 0.35,
            "dense": 96,
            "l2": 1e-4,
        }
    )
    threads: int = 2

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "ensemble", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")
        if not isinstance(self.n_augment, int) or not 0 <= self.n_augment <= 8:
            raise ValueError(f"n_augment must be a whole number from 0 to 8, got {self.n_augment!r}.")
        if not 0 < self.learning_rate < 1:
            raise ValueError(f"learning_rate must be between 0 and 1, got {self.learning_rate!r}.")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}.")
        if len(self.arch.get("filters", [])) != len(self.arch.get("kernels", [])):
            raise ValueError("arch needs one kernel size per filter count.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
            "n_augment": self.n_augment,
            "label_smoothing": self.label_smoothing,
            "ensemble": self.ensemble,
            "arch": dict(self.arch),
        }
