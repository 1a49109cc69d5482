"""What a distillation run is asked (``DistillRequest``), says per step and returns.

Apart from the trainer so that the session it prepares can name them without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.distill.config import DistillConfig


@dataclass(frozen=True, kw_only=True)
class DistillRequest:
    """One run: its config, where its files go, and what to do with the result."""

    config: DistillConfig
    out_dir: Path
    resume: bool = False
    register_as: str | None = None
    command: str = ""


@dataclass(frozen=True, kw_only=True)
class TrainStep:
    """Emitted after every step with the global batch's losses (for live plots)."""

    step: int
    stage: str
    losses: dict[str, float]
    seconds: float


@dataclass(frozen=True, kw_only=True)
class DistillResult:
    out_dir: Path
    steps: int
    student: Path
    best: Path | None
    best_metrics: dict[str, Any] | None
    registered: Path | None
    seconds_per_step: float | None
