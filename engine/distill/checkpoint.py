"""Atomic, resumable training checkpoints.

A checkpoint is everything that determines the rest of the run: the completed step count,
every module and optimizer state (spectral-norm vectors and EMA included), the RNG states
and the validation history. Batches are a pure function of the step (engine.distill.sampler),
so after ``kill -9`` a resumed run recomputes the lost steps exactly and the loss curve
continues as if nothing had happened.

Written with ``torch.save`` to a temp file in the same folder, fsynced, then renamed over the
old one: a crash mid-write leaves the previous checkpoint intact. Read back with
``weights_only=True``, so a checkpoint file can never execute code.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import io
import pickle
import random
import re
from collections.abc import Generator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from engine import files
from engine.distill.config import config_from_dict, config_to_dict
from engine.errors import UsageError
from engine.events import Event, Notice
from engine.files import atomic_write_bytes

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT = 1


class Checkpointed(Protocol):
    """What a checkpoint keeps of a run's networks (engine.distill.nets.Nets, a supernet's)."""

    def modules(self) -> dict[str, nn.Module]: ...

    def optimizers(self) -> dict[str, torch.optim.Optimizer]: ...


def capture(
    nets: Checkpointed, *, step: int, config: dict[str, Any], history: dict[str, Any]
) -> dict:
    """A plain dict of tensors, numbers and strings (loadable with weights_only=True)."""
    return {
        "format": FORMAT,
        "step": step,
        "config": config,
        "history": history,
        "modules": {name: m.state_dict() for name, m in nets.modules().items()},
        "optimizers": {name: o.state_dict() for name, o in nets.optimizers().items()},
        "rng": {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": _numpy_state(),
            "python": repr(random.getstate()),
        },
    }


def restore(nets: Checkpointed, state: dict) -> None:
    for name, module in nets.modules().items():
        module.load_state_dict(state["modules"][name])
    for name, optimizer in nets.optimizers().items():
        optimizer.load_state_dict(state["optimizers"][name])
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    _set_numpy_state(rng["numpy"])
    random.setstate(_literal_tuple(rng["python"]))


def _numpy_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached": float(cached),
    }


def _set_numpy_state(state: dict[str, Any]) -> None:
    keys = state["keys"].numpy().astype(np.uint32)
    np.random.set_state((state["name"], keys, state["pos"], state["has_gauss"], state["cached"]))


def _literal_tuple(text: str) -> tuple:
    return ast.literal_eval(text)


def save_checkpoint(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _resumable(config: dict[str, Any]) -> dict[str, Any]:
    """The config minus what a resume may change: more (or fewer) total steps.

    A checkpoint written before a setting existed gets that setting's default, so upgrading
    the app does not strand a half-finished run.
    """
    trimmed = copy.deepcopy(config)
    # A key this version no longer knows fails to parse: then it is compared as it is.
    with contextlib.suppress(UsageError):
        trimmed = config_to_dict(config_from_dict(trimmed))
    trimmed.get("schedule", {}).pop("steps", None)
    return trimmed


def remove_stale_temporaries(out_dir: Path) -> list[Path]:
    """Delete the half-written files (checkpoint, log, report...) a killed run left in its
    folder: only our own temporaries (engine.files naming) whose writer is gone."""
    return files.remove_stale_temporaries(out_dir)


def _unreadable(path: Path, error: BaseException) -> str:
    """One line for a checkpoint torch cannot load; never torch's advice to load it with
    weights_only=False, which would let a damaged or hostile file run code."""
    text = str(error)
    if isinstance(error, pickle.UnpicklingError) or "weights_only" in text.lower():
        match = re.search(r"unsupported global:? *(?:GLOBAL )?([\w.]+)", text, re.IGNORECASE)
        what = f" ({match[1]})" if match else ""
        return (
            f"{path}: the checkpoint holds code or objects that are not training state{what}; "
            "it was not loaded (only files written by mfagan distill can be resumed)"
        )
    first = text.strip().splitlines()[0].split(". ")[0] if text.strip() else type(error).__name__
    return f"{path}: the checkpoint is damaged or not a checkpoint ({first})"


def load_checkpoint(path: Path, *, config: dict[str, Any]) -> dict:
    """The checkpoint at ``path``; UsageError if it belongs to a different configuration
    or cannot be read (one line each: empty, damaged, or carrying code)."""
    try:
        empty = path.stat().st_size == 0
    except OSError as error:
        raise UsageError(
            f"{path}: cannot read the checkpoint ({error.strerror or error})"
        ) from None
    if empty:
        raise UsageError(
            f"{path}: the checkpoint is empty (0 bytes); start the run again without --resume "
            "or in another --out folder"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as error:
        raise UsageError(_unreadable(path, error)) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise UsageError(f"{path}: checkpoint format {found} is not {FORMAT}")
    old, new = _resumable(state["config"]), _resumable(config)
    if old != new:
        changed = sorted(k for k in new if old.get(k) != new.get(k))
        raise UsageError(
            f"{path}: the checkpoint was made with a different config (differs in: "
            f"{', '.join(changed)}); use another --out folder or the same settings"
        )
    return state


def open_run(
    out_dir: Path, *, resume: bool, config: dict[str, Any], main: bool
) -> Generator[Event, None, dict | None]:
    """The checkpoint state to resume from (None: a fresh run), checked before any slow
    set-up so that a mismatch fails fast; a fresh run never overwrites one in ``out_dir``,
    and a resumed one first clears what a killed run half-wrote (``main``: rank 0 only)."""
    checkpoint = out_dir / CHECKPOINT_NAME
    if checkpoint.is_file() and not resume:
        raise UsageError(
            f"{out_dir} already holds a run; pass --resume to continue it "
            "or choose another --out folder"
        )
    if resume and main and remove_stale_temporaries(out_dir):
        yield Notice(message=f"removed the unfinished files of a stopped run in {out_dir}")
    return load_checkpoint(checkpoint, config=config) if resume and checkpoint.is_file() else None
