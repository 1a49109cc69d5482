"""The bench result as markdown, and the README section it replaces."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.errors import StorageError, UsageError
from engine.files import atomic_write_bytes, folder_problem
from engine.measure.bench_photo import PhotoRun
from engine.measure.bench_result import (
    GOALS,
    METRIC_TITLES,
    BenchResult,
    GoalCheck,
    ModelBench,
)

START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"
BACKEND_TITLES = {"torch": "PyTorch", "onnx": "onnxruntime", "openvino": "OpenVINO", "auto": "auto"}


def render_table(result: BenchResult) -> str:
    """Markdown: the cost table, the wall-time table and the goals, with how they were run."""
    s = result.settings
    parts = [
        f"Measured by `make bench` on {result.date}: {result.machine}. "
        f"Ratios are {s.reference} / model; float32 except where a runtime says bf16.",
        "",
        *_cost_table(result),
    ]
    if any(m.timings for m in result.models):
        parts += ["", *_time_table(result)]
    if result.photos:
        parts += ["", *photo_lines(result)]
    if result.goals:
        parts += ["", *_goal_lines(result)]
    return "\n".join(parts) + "\n"


def readme_section(
    path: Path, *, start_marker: str = START_MARKER, end_marker: str = END_MARKER
) -> tuple[str, int, int]:
    """The README's text and where the bench section lies; UsageError when it cannot be used.

    Called before a bench starts too, so a wrong path fails in a second, not after minutes.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error})") from None
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise UsageError(
            f"{path}: no '{start_marker}' ... '{end_marker}' section to put the table in"
        )
    return text, start, end


def check_readme(
    path: Path, *, start_marker: str = START_MARKER, end_marker: str = END_MARKER
) -> None:
    """UsageError (exit 2) before long work when ``path`` cannot take the table: unreadable,
    no marker section, a read-only file, or a folder no file can be replaced in."""
    readme_section(path, start_marker=start_marker, end_marker=end_marker)
    if (problem := _write_problem(path)) is not None:
        raise UsageError(f"{path}: {problem}")


def _write_problem(path: Path) -> str | None:
    # The write replaces the file (a temporary renamed over it): its folder must take a new
    # file. A file marked read-only is refused too, also for root, whom os.access lets by.
    if (problem := folder_problem(path.parent)) is not None:
        return problem
    try:
        mode = path.stat().st_mode
    except OSError:  # (readme_section has read it: gone since, the write will say)
        return None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        return "cannot write it (read-only file)"
    return None


def update_readme(
    path: Path, table: str, *, start_marker: str = START_MARKER, end_marker: str = END_MARKER
) -> None:
    """Replace what lies between two markers (the bench's by default) in ``path``, atomically.

    UsageError when the section is missing; StorageError (exit 1) when the write fails."""
    text, start, end = readme_section(path, start_marker=start_marker, end_marker=end_marker)
    body = table.strip("\n")
    new = f"{text[: start + len(start_marker)]}\n{body}\n{text[end:]}"
    try:
        atomic_write_bytes(path, new.encode("utf-8"))
    except OSError as error:
        reason = error.strerror or str(error)
        raise StorageError(path, f"cannot write it ({reason[:1].lower() + reason[1:]})") from None


def _cost_table(result: BenchResult) -> list[str]:
    ratio_heads = [f"{title} ratio" for title in METRIC_TITLES.values()]
    heads = ["model", "LR input", "params", "MACs", "memory access", "peak activation"]
    lines = [
        "**Cost of one forward pass** (exact, counted per aten op; memory-access cost = "
        "activations read + written + weights, per op, as in ShuffleNetV2; peak activation = "
        "most bytes of live tensors, input and output included)",
        "",
        _row([*heads, *ratio_heads]),
        _row(["---", "---"] + ["---:"] * (len(heads) - 2 + len(ratio_heads))),
    ]
    for model in result.models:
        for cost in model.costs:
            h, w = cost.input_shape[-2:]
            ratios = [_times(result.cost_ratio(model.name, metric, h)) for metric in METRIC_TITLES]
            cells = [
                _label(model),
                f"{h}x{w}",
                _count(cost.params, ""),
                _count(cost.macs, ""),
                _bytes(cost.memory_access_bytes),
                _bytes(cost.peak_activation_bytes),
            ]
            lines.append(_row(cells + ratios))
    return lines


def _time_table(result: BenchResult) -> list[str]:
    s = result.settings
    side = s.time_size or 0
    backends = s.backends
    tiles = f"{s.tile} px tiles, {s.overlap} px overlap" if s.tile else "no tiling"
    # What --backend auto runs each model on, beside the times (issue 18).
    runtime_head = ["auto runtime"] if "auto" in backends else []
    heads = runtime_head + [f"{BACKEND_TITLES.get(b, b)} (s)" for b in backends]
    heads += [f"speed-up {BACKEND_TITLES.get(b, b)}" for b in backends]
    heads += [f"peak RSS {BACKEND_TITLES.get(b, b)}" for b in backends]
    lines = [
        f"**CPU wall time, a {side}x{side} photo to {side * 4}x{side * 4}** (x4 models; "
        f"median of {_runs(s.repeats)}, {s.reference}: {_runs(s.reference_repeats)}; {tiles}; "
        "peak RSS = the whole bench process during the timed runs, in brackets its growth "
        "over the resident memory when they began)",
        "",
        _row(["model", *heads]),
        _row(["---"] + ["---:"] * len(heads)),
    ]
    for model in result.models:
        cells = [_label(model)]
        cells += [_auto_runtime(model)] if runtime_head else []
        cells += [_seconds(model, b) for b in backends]
        cells += [_times(result.speedup(model.name, b)) for b in backends]
        cells += [_rss(model, b) for b in backends]
        lines.append(_row(cells))
    lines += _runtime_lines(result)
    return lines


def _runtime_lines(result: BenchResult) -> list[str]:
    """Which runtime OpenVINO and auto ran per model, and auto against onnxruntime."""
    notes = []
    for model in result.models:
        onnx, auto = model.timing("onnx"), model.timing("auto")
        ran = [
            f"{t.backend}: {t.runtime}"
            for t in model.timings
            if t.runtime and t.backend in ("openvino", "auto")
        ]
        if not ran:
            continue
        note = f"{model.name} ran {', '.join(ran)}"
        if onnx and auto and onnx.median_s and auto.median_s:
            note += f"; auto {onnx.median_s / auto.median_s:.2f}x onnxruntime's speed"
        notes.append(note)
    return ["", "Runtimes: " + "; ".join(notes) + "."] if notes else []


def _auto_runtime(model: ModelBench) -> str:
    """The runtime auto picked for ``model`` ("openvino-bf16"), "fails" or "–"."""
    timing = model.timing("auto")
    if timing is None:
        return "–"
    if not timing.runtime:
        return "fails" if timing.error else "–"
    return timing.runtime.removesuffix(" (auto)")


def photo_line(run: PhotoRun) -> str:
    """The phone-photo paragraph: what ran, how long, how much memory at most."""
    head = _photo_head(run, f"`{run.command}`", "one run in a child process")
    return head + _photo_outcome(run)


def photo_lines(result: BenchResult) -> list[str]:
    """The phone-photo paragraph, one line per backend when there are several, and how
    auto's time compares with onnxruntime's."""
    runs = result.photos
    if len(runs) == 1:
        return [photo_line(runs[0])]
    first = runs[0]
    backends = ", then ".join(f"`--backend {run.backend}`" for run in runs)
    command = f"`{first.command.rsplit(' --backend ', 1)[0]}` with {backends}"
    lines = [_photo_head(first, command, "one run each in a child process").removesuffix(" "), ""]
    speedup = result.photo_speedup
    for run in runs:
        line = f"- {BACKEND_TITLES.get(run.backend, run.backend)}: {_photo_outcome(run)}"
        if run.backend == "auto" and speedup is not None:
            line = line.removesuffix(".") + f"; auto {speedup:.2f}x onnxruntime's speed."
        lines.append(line)
    return lines


def _photo_head(run: PhotoRun, command: str, runs: str) -> str:
    (w, h), (ow, oh) = run.size, run.output_size
    return (
        f"**A phone photo, {w}x{h} ({w * h / 1e6:.0f} MP) to {ow}x{oh} {run.format}** "
        f"({command}, model {run.model}, default tile size, {runs}; peak RSS = its maximum "
        "resident set size, as `/usr/bin/time -v` reports it): "
    )


def _photo_outcome(run: PhotoRun) -> str:
    if run.error:
        return f"fails ({run.error})."
    peak = "n/a" if run.peak_rss_bytes is None else _bytes(run.peak_rss_bytes)
    return f"{run.seconds:.1f} s{_photo_runtime(run)}, peak RSS {peak}."


def _photo_runtime(run: PhotoRun) -> str:
    if run.backend == "auto":
        return f" on {run.runtime} (auto)" if run.runtime else " on auto's pick"
    return f" on {run.runtime or run.backend}"


def _goal_lines(result: BenchResult) -> list[str]:
    s = result.settings
    lines = [f"**Goals** ({s.goal_model} vs {s.reference}):", ""]
    for metric, target in GOALS:
        checks = [g for g in result.goals if g.metric == metric]
        if not checks:
            continue
        verdict = "pass" if all(g.passed for g in checks) else "FAIL"
        found = ", ".join(f"{_times(g.ratio)} at {g.lr_size}x{g.lr_size}" for g in checks)
        lines.append(f"- {METRIC_TITLES[metric]} ratio >= {target:g}x: {found}: **{verdict}**")
    return lines + _photo_goal_lines(result)


def _photo_goal_lines(result: BenchResult) -> list[str]:
    """Auto against onnxruntime on the phone photo, and auto's peak memory there."""
    goals = {g.metric: g for g in result.goals if g.lr_size is None}
    if not goals or result.settings.photo is None:
        return []
    w, h = result.settings.photo
    photo = f"{w * h / 1e6:.0f} MP photo"
    lines = []
    if (speed := goals.get("photo_speedup")) is not None:
        found = "a run failed" if speed.ratio is None else f"{speed.ratio:.2f}x"
        lines.append(
            f"- {photo}: auto >= {speed.target:.1f}x faster than onnxruntime: "
            f"{found}: **{_verdict(speed)}**"
        )
    if (memory := goals.get("photo_peak_rss_gib")) is not None:
        found = "auto's run failed" if memory.ratio is None else f"{memory.ratio:.2f} GiB (auto)"
        lines.append(
            f"- {photo} peak RSS <= {memory.target:g} GiB: {found}: **{_verdict(memory)}**"
        )
    return lines


def _verdict(goal: GoalCheck) -> str:
    return "pass" if goal.passed else "FAIL"


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def _label(model: ModelBench) -> str:
    if model.config and model.config not in model.name:
        return f"{model.name} ({model.config})"
    return model.name


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _count(value: int, unit: str) -> str:
    for factor, prefix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if value >= factor:
            return f"{value / factor:.2f}{prefix}{unit}"
    return f"{value}{unit}"


def _bytes(value: int) -> str:
    for factor, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= factor:
            return f"{value / factor:.2f} {unit}"
    return f"{value} B"


def _times(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    return f"{ratio:.1f}x" if ratio < 100 else f"{ratio:.0f}x"


def _seconds(model: ModelBench, backend: str) -> str:
    timing = model.timing(backend)
    if timing is None or timing.median_s is None:
        return "n/a" if timing is None or not timing.error else "fails"
    return f"{timing.median_s:.2f}" if timing.median_s >= 0.1 else f"{timing.median_s:.3f}"


def _rss(model: ModelBench, backend: str) -> str:
    timing = model.timing(backend)
    if timing is None or timing.peak_rss_bytes is None:
        return "n/a"
    text = _bytes(timing.peak_rss_bytes)
    if timing.start_rss_bytes is not None:
        text += f" (+{_bytes(timing.peak_rss_bytes - timing.start_rss_bytes)})"
    return text
