"""A training run's folder as the training view shows it: loss rows, the latest validation
picture and its scores, and how far the checkpoint got.

Read from the files the trainer writes, so a resumed run shows its whole history, not only the
new steps. The Retrain page and the phone wizard's fine-tune step both show runs this way.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PySide6.QtGui import QImage

from engine.distill.checkpoint import CHECKPOINT_NAME
from engine.distill.steps import LOSS_KEYS
from engine.events import CancelToken, Finished


@dataclass(frozen=True, kw_only=True)
class RunView:
    """What a run folder holds: loss rows, the latest validation picture and its scores."""

    folder: Path
    rows: list[tuple[int, str, dict[str, float]]] = field(default_factory=list)
    picture: QImage | None = None
    validation: str = ""
    checkpoint_step: int | None = None  # None: nothing to resume
    total_steps: int | None = None


def _rows(path: Path) -> list[tuple[int, str, dict[str, float]]]:
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            try:
                losses = {k: float(row[k]) for k in LOSS_KEYS if row.get(k) not in (None, "")}
                rows.append((int(row["step"]), row["stage"], losses))
            except (TypeError, ValueError):
                continue  # the row the trainer is appending right now (or a torn one)
    return rows


def validation_text(summary: dict[str, Any]) -> str:
    runs = summary.get("validation") or []
    if not runs:
        return ""
    last, bicubic = runs[-1], summary.get("bicubic") or {}
    best = summary.get("best") or last
    scores = last["student"]
    # In the words of the Compare step ("how close ... to Best quality"), not "student vs
    # teacher ... PSNR" (issue 21, item 10); the check picture's captions name the columns.
    text = (
        f"Step {last['step']}: how close to Best quality (higher is closer): your model "
        f"{scores['psnr_teacher']:.2f} dB, plain enlargement "
        f"{bicubic.get('psnr_teacher', float('nan')):.2f} dB; "
        f"your model to your originals: {scores['psnr_gt']:.2f} dB."
    )
    if best["step"] != last["step"]:
        text += f" Best so far: step {best['step']} ({best['student']['psnr_teacher']:.2f} dB)."
    return text


def run_view_job(folder: Path, with_rows: bool, cancel: CancelToken) -> Iterator[Any]:
    picture = folder / "side_by_side.png"
    image = QImage(str(picture)) if picture.is_file() else None
    summary: dict[str, Any] = {}
    metrics = folder / "metrics.json"
    if metrics.is_file():
        try:
            summary = json.loads(metrics.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            summary = {}
    yield Finished(
        result=RunView(
            folder=folder,
            rows=_rows(folder / "metrics.csv") if with_rows else [],
            picture=image if image is not None and not image.isNull() else None,
            validation=validation_text(summary),
            **_checkpoint_progress(folder / CHECKPOINT_NAME),
        )
    )


def _checkpoint_progress(path: Path) -> dict[str, int | None]:
    if not path.is_file():
        return {}
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        return {
            "checkpoint_step": int(state["step"]),
            "total_steps": int(state["config"]["schedule"]["steps"]),
        }
    except (OSError, RuntimeError, EOFError, KeyError, TypeError, ValueError):
        return {}
