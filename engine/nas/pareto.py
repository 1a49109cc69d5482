"""The latency/fidelity Pareto front of a search and its picture (matplotlib, no display).

A candidate is on the front when no other is at least as fast *and* at least as faithful
while strictly better in one of the two. The picture shows every scored candidate (both
searches), the front, the pick, the shipped student and the public reference networks at
their published latencies on the target (vertical lines: their weights are not ours, so
they have no fidelity to our teacher to plot).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.files import atomic_write_bytes
from engine.nas.evolution import Scored
from engine.nas.latency import ReferencePoint

S = TypeVar("S", bound=Scored)


def pareto_front(candidates: Iterable[S]) -> list[S]:
    """The non-dominated candidates, fastest first (latency down, fidelity up)."""
    front: list[S] = []
    best = float("-inf")
    for candidate in sorted(candidates, key=lambda s: (s.latency_ms, -s.fidelity)):
        if candidate.fidelity > best:
            front.append(candidate)
            best = candidate.fidelity
    return front


@dataclass(frozen=True, kw_only=True)
class ParetoPicture:
    """Everything the picture draws; points are (latency ms, fidelity dB)."""

    title: str
    evolution: Sequence[tuple[float, float]]
    random: Sequence[tuple[float, float]]
    front: Sequence[tuple[float, float]]
    pick: tuple[float, float]
    pick_label: str
    budget_ms: float
    student: tuple[float, float] | None = None
    student_label: str = "shipped student"
    references: Sequence[ReferencePoint] = ()
    x_label: str = "predicted latency (ms)"


def render_png(picture: ParetoPicture) -> bytes:
    """The picture as PNG bytes (Agg backend: no display, safe in a worker thread)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import ScalarFormatter

    figure = Figure(figsize=(8, 5.2), dpi=110, layout="constrained")
    axes = figure.add_subplot()
    for points, style in (
        (picture.random, {"color": "#bbbbbb", "label": "random search"}),
        (picture.evolution, {"color": "#7fa7d9", "label": "evolution"}),
    ):
        if points:
            axes.scatter(*zip(*points, strict=True), s=9, alpha=0.6, linewidths=0, **style)
    if picture.front:
        axes.step(*zip(*picture.front, strict=True), where="post", color="#1f4e8c", lw=1.5)
        axes.scatter(*zip(*picture.front, strict=True), s=18, color="#1f4e8c", label="Pareto front")
    axes.axvline(picture.budget_ms, color="#c0392b", ls="--", lw=1, label="budget")
    axes.scatter(
        *picture.pick, s=140, marker="*", color="#c0392b", zorder=5, label=picture.pick_label
    )
    if picture.student is not None:
        axes.scatter(
            *picture.student,
            s=70,
            marker="D",
            color="#2e8b57",
            zorder=5,
            label=picture.student_label,
        )
    previous = 0.0
    for ref in sorted(picture.references, key=lambda r: r.ms):
        axes.axvline(ref.ms, color="#8e6c8a", ls=":", lw=1)
        name = ref.title.split(" (")[0]
        # Nets within 15 % of each other (XLSR, QuickSRNetSmall) label on either side.
        side = "left" if previous and ref.ms < previous * 1.15 else "right"
        previous = ref.ms
        axes.annotate(
            f"{name} {ref.ms:g} ms", (ref.ms, 1.0), xycoords=("data", "axes fraction"),
            rotation=90, va="top", ha=side, fontsize=7, color="#8e6c8a",
        )  # fmt: skip
    if picture.references:
        axes.plot([], [], color="#8e6c8a", ls=":", label="public nets (published latency)")
        axes.set_xscale("log")  # 5 ms to 80 ms public nets beside the candidates
        axes.xaxis.set_major_formatter(ScalarFormatter())
        axes.xaxis.set_minor_formatter(ScalarFormatter())
        axes.tick_params(axis="x", which="minor", labelsize=7)
    axes.set_xlabel(picture.x_label)
    axes.set_ylabel("fidelity to the teacher, PSNR-Y (dB)")
    axes.set_title(picture.title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="lower right")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_png(picture: ParetoPicture, path: Path) -> None:
    """Render and write atomically (a cancelled or failed write leaves no half file)."""
    atomic_write_bytes(path, render_png(picture))
