"""The shared run loop on its own: a fourth trainer (a toy regression) in about 50 lines.

The toy draws noise from the global torch RNG at every step, so a resume is bit-identical
only if the loop restores modules, optimizer state and RNG states from the checkpoint.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.distill.config import ScheduleConfig
from engine.distill.parallel import Parallel
from engine.distill.report import MetricsLog
from engine.distill.request import TrainStep
from engine.distill.run_loop import Trainer, run_training
from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Event, Finished, Notice, Progress

SCHEDULE = ScheduleConfig(steps=9, val_every=4, checkpoint_every=3)


# ---- the fourth trainer -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ToyRequest:
    out_dir: Path
    resume: bool = False
    lr: float = 0.05
    warmup: int = 2  # steps of the "warmup" stage, which is not validated


@dataclass(kw_only=True)
class ToyNets:
    model: torch.nn.Linear
    opt: torch.optim.Optimizer

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"model": self.model}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": self.opt}


@dataclass(kw_only=True)
class ToyRun:
    request: ToyRequest
    nets: ToyNets
    history: dict[str, Any] = field(default_factory=dict)
    log: MetricsLog | None = None

    def train_step(self, step: int) -> tuple[str, dict[str, float]]:
        x = torch.randn(8, 1)  # the global RNG: only a restored state repeats it
        loss = torch.nn.functional.mse_loss(self.nets.model(x), 3 * x)
        self.nets.opt.zero_grad()
        loss.backward()
        self.nets.opt.step()
        return ("warmup" if step < self.request.warmup else "main"), {"l_mse": loss.item()}

    def describe(self, stage: str, losses: dict[str, float]) -> str:
        return f"{stage} l_mse={losses['l_mse']:.4f}"

    def validate(self, step: int) -> str:
        error = abs(float(self.nets.model.weight.detach()) - 3)
        self.history.setdefault("validation", []).append({"step": step, "error": error})
        return f"step {step}: weight error {error:.4f}"

    def finish(self, timings: Sequence[float]) -> dict[str, Any]:
        return {"weight": float(self.nets.model.weight.detach()), "steps": len(timings)}


def prepare(request: ToyRequest, parallel: Parallel, cancel: CancelToken) -> Iterator[Event]:
    request.out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1).to(parallel.device)
    opt = torch.optim.SGD(model.parameters(), lr=request.lr, momentum=0.9)
    yield Notice(message="toy ready")
    return ToyRun(request=request, nets=ToyNets(model=model, opt=opt))


TOY = Trainer(
    stage="toy",
    prepare=prepare,
    config=lambda request: {"toy": {"lr": request.lr, "warmup": request.warmup}},
    schedule=lambda request: SCHEDULE,
    log_fields=("step", "stage", "seconds", "l_mse"),
    unvalidated_stages=frozenset({"warmup"}),
)


# ---- the tests ----------------------------------------------------------------------------


def _run(request: ToyRequest, *, stop_after: int | None = None, cancel_at: int | None = None):
    """All events; ``stop_after``: abandon the job there, like a kill -9 (no final save)."""
    cancel = CancelToken()
    events: list[Any] = []
    job = run_training(TOY, request, cancel=cancel)
    for event in job:
        events.append(event)
        if isinstance(event, TrainStep) and event.step == stop_after:
            job.close()
            break
        if isinstance(event, TrainStep) and event.step == cancel_at:
            cancel.cancel()
    return events


def _steps(events: list[Any]) -> dict[int, dict[str, float]]:
    return {e.step: e.losses for e in events if isinstance(e, TrainStep)}


def test_events_cadences_and_metrics_columns(tmp_path: Path) -> None:
    events = _run(ToyRequest(out_dir=tmp_path / "run"))
    progress = [e for e in events if isinstance(e, Progress)]
    assert [(p.stage, p.done, p.total) for p in progress] == [("toy", s, 9) for s in range(1, 10)]
    assert progress[0].message.startswith("warmup l_mse=")
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert notices[0] == "toy ready"
    assert [n.split(":")[0] for n in notices[1:]] == ["step 4", "step 8", "step 9"]
    result = events[-1]
    assert isinstance(result, Finished) and result.result["steps"] == 9
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 9 and [h["step"] for h in state["history"]["validation"]] == [4, 8, 9]
    with (tmp_path / "run" / "metrics.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["step", "stage", "seconds", "l_mse"]
    assert [r["stage"] for r in rows] == ["warmup"] * 2 + ["main"] * 7


def test_a_warmup_only_run_is_never_validated(tmp_path: Path) -> None:
    events = _run(ToyRequest(out_dir=tmp_path / "run", warmup=9))
    assert [e.message for e in events if isinstance(e, Notice)] == ["toy ready"]


def test_resume_after_kill_is_bit_identical(tmp_path: Path) -> None:
    whole = _run(ToyRequest(out_dir=tmp_path / "whole"))
    _run(ToyRequest(out_dir=tmp_path / "broken"), stop_after=5)  # checkpoint at 3: 4, 5 lost
    resumed = _run(ToyRequest(out_dir=tmp_path / "broken", resume=True))
    assert any(isinstance(e, Notice) and "resumed from step 3" in e.message for e in resumed)
    assert sorted(_steps(resumed)) == list(range(4, 10))
    assert all(_steps(resumed)[s] == _steps(whole)[s] for s in range(4, 10))
    assert resumed[-1].result["weight"] == whole[-1].result["weight"]
    with (tmp_path / "broken" / "metrics.csv").open(newline="") as file:
        assert [int(r["step"]) for r in csv.DictReader(file)] == list(range(1, 10))


def test_cancel_checkpoints_and_resume_finishes(tmp_path: Path) -> None:
    request = ToyRequest(out_dir=tmp_path / "run")
    with pytest.raises(Cancelled, match="stopped at step 5"):
        _run(request, cancel_at=5)
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 5
    with pytest.raises(UsageError, match="--resume"):
        _run(request)
    with pytest.raises(UsageError, match="different config"):
        _run(dataclasses.replace(request, resume=True, lr=0.1))
    resumed = _run(dataclasses.replace(request, resume=True))
    assert sorted(_steps(resumed)) == list(range(6, 10))
