"""The full configuration of a training run, saved in the run directory."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Optional

import torch

from ..data import Encoding
from ..models.network import NetworkConfig


LR_SCHEDULES = ("constant", "cosine")
OPTIMIZERS = {"adam": torch.optim.Adam, "adamax": torch.optim.Adamax}
"""Optimizers by name: Adam, and Adamax (Adam with an infinity norm, the sFPTT reference's choice)."""


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The optimizer ``name`` over ``params``, its multi-tensor implementation (one call per
    operation for all parameters: methods that step every time step call it often)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")
    return OPTIMIZERS[name](params, lr=lr, foreach=True)


def epoch_lr(config: TrainConfig, epoch: int) -> float:
    """Learning rate of epoch ``epoch`` (0-based) under ``config.lr_schedule``; a function of the
    epoch alone, so a resumed run continues the same schedule."""
    if config.lr_schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * epoch / config.epochs))
    return config.lr


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (saved as ``config.json``)."""

    dataset: str = "digits"
    data_dir: Optional[str] = None
    data_seed: Optional[int] = None
    """Generated data sets (mnist1d): the draw's seed; None for the data set's default."""
    data_samples: Optional[int] = None
    """Generated data sets (mnist1d): samples drawn (train and test together); None for the default."""
    encoding: Encoding = field(default_factory=Encoding)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    algo: str = "bptt"
    algo_params: dict[str, Any] = field(default_factory=dict)
    epochs: int = 8
    batch_size: int = 32
    lr: float = 3e-3
    optimizer: str = "adam"
    """'adam' or 'adamax' (see :data:`OPTIMIZERS`)."""
    lr_schedule: str = "constant"
    """'constant', or 'cosine': epoch e (from 0) trains at lr * (1 + cos(pi * e / epochs)) / 2."""
    loss_gain: float = 8.0
    seed: int = 0
    train_limit: Optional[int] = None

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"need epochs >= 1 and batch size >= 1; got {self.epochs}, {self.batch_size}")
        for name in ("lr", "loss_gain"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {value}")
        if not 0.0 <= self.network.reset_frac <= 1.0:
            raise ValueError(f"reset_frac (the fraction of the membrane a spike removes) must be in [0, 1], "
                             f"got {self.network.reset_frac}")
        if self.train_limit is not None and self.train_limit < 1:
            raise ValueError(f"train_limit must be >= 1 (or None for all samples), got {self.train_limit}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["encoding"] = Encoding(**data["encoding"])
        data["network"] = NetworkConfig.from_dict(data["network"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        return cls.from_dict(json.loads(text))
