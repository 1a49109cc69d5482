"""What a run leaves for people: metrics CSV/JSON, a PNG of the curves, a side-by-side PNG.

The CSV gets one row per step as it happens (watchable with ``tail -f``); a resumed run first
drops the rows after its checkpoint, so the file always describes one continuous run.
Matplotlib is used through its Agg canvas only (no pyplot, no GUI backend is ever chosen).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from engine import files
from engine.distill.steps import LOSS_KEYS
from engine.distill.validation import ValImages

CSV_FIELDS = ("step", "stage", "seconds", *LOSS_KEYS)
PANELS = ("LR (nearest)", "bicubic", "teacher", "student", "HR")
LABEL_HEIGHT = 14
MIN_PANEL_WIDTH = 96  # wide enough for the longest label in Pillow's default font


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``engine.files.atomic_write_bytes``, creating the run folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    files.atomic_write_bytes(path, data)


def write_json(path: Path, data: Any) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, allow_nan=False) + "\n").encode())


class MetricsLog:
    """metrics.csv: step, stage, seconds and every loss (blank where a stage has none).

    ``fields`` are the columns (a supernet run's have no stage and other losses); a value
    whose name is not one of them is not written.
    """

    def __init__(self, path: Path, *, keep_until: int, fields: Sequence[str] = CSV_FIELDS) -> None:
        self.path = path
        self.fields = tuple(fields)
        # A kill -9 can leave a half-written last row (DictReader fills its missing fields
        # with None); rows up to the checkpoint were complete before it was written.
        rows = [
            r
            for r in self.read()
            if None not in r.values() and r["step"].isdigit() and int(r["step"]) <= keep_until
        ]
        atomic_write_bytes(path, _csv_text(rows, self.fields).encode())

    def read(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="") as file:
            return list(csv.DictReader(file))

    def append(self, step: int, stage: str, seconds: float, values: dict[str, float]) -> None:
        row = {"step": step, "stage": stage, "seconds": f"{seconds:.4f}"}
        row |= {key: repr(values[key]) for key in self.fields if key in values}
        with self.path.open("a", newline="") as file:
            csv.DictWriter(file, fieldnames=self.fields, extrasaction="ignore").writerow(row)


def _csv_text(rows: Sequence[dict[str, str]], fields: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def plot_curves(rows: Sequence[dict[str, str]], history: Sequence[dict], path: Path) -> None:
    """Losses (log scale, one panel for G and teacher D, one for student D) and val PSNR."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4), dpi=100)
    canvas = FigureCanvasAgg(figure)
    panels = figure.subplots(1, 3)
    groups = (("generator / teacher D", ("l_g_", "l_td_")), ("student D", ("l_d_",)))
    for axis, (title, prefixes) in zip(panels[:2], groups, strict=True):
        for key in (k for k in LOSS_KEYS if k.startswith(prefixes)):
            points = [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]
            points = [(s, v) for s, v in points if v > 0 and math.isfinite(v)]
            if points:
                axis.plot(*zip(*points, strict=True), label=key, linewidth=0.8)
        axis.set(title=title, xlabel="step", yscale="log")
        if axis.lines:
            axis.legend(fontsize=7)
    for key, label in (("psnr_teacher", "vs teacher"), ("psnr_gt", "vs ground truth")):
        points = [(h["step"], h["student"][key]) for h in history]
        if points:
            panels[2].plot(*zip(*points, strict=True), marker="o", label=f"student {label}")
    panels[2].set(title="validation PSNR-Y (dB)", xlabel="step")
    if panels[2].lines:
        panels[2].legend(fontsize=7)
    figure.tight_layout()
    canvas.draw()
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())[:, :, :3])
    _save_png(image, path)


def side_by_side(images: Sequence[ValImages], path: Path) -> None:
    """Rows of LR (nearest) | bicubic | teacher | student | HR, labelled on top.

    Small crops are enlarged (nearest, whole factors) so that the labels fit and the pixels
    can be seen; the pictures themselves are never resampled smoothly.
    """
    height, width = images[0].hr.shape[:2]
    zoom = max(1, math.ceil(MIN_PANEL_WIDTH / width))
    height, width = height * zoom, width * zoom
    canvas = Image.new("RGB", (width * len(PANELS), LABEL_HEIGHT + height * len(images)), "white")
    draw = ImageDraw.Draw(canvas)
    for column, label in enumerate(PANELS):
        draw.text((column * width + 3, 1), label, fill="black")
    for row, im in enumerate(images):
        arrays = (im.lr, im.bicubic, im.teacher, im.student, im.hr)
        for column, array in enumerate(arrays):
            panel = Image.fromarray(array).resize((width, height), Image.NEAREST)
            canvas.paste(panel, (column * width, LABEL_HEIGHT + row * height))
    _save_png(canvas, path)


def _save_png(image: Image.Image, path: Path) -> None:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
