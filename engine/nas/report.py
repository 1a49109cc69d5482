"""A search result as text, as JSON and as the Pareto picture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.files import atomic_write_bytes
from engine.nas.evolution import Scored, SearchOutcome
from engine.nas.latency import THIS_COMPUTER
from engine.nas.pareto import ParetoPicture, write_png
from engine.nas.search import SearchResult


def _scored(s: Scored) -> dict[str, Any]:
    return {
        "config": s.config.encode(),
        "latency_ms": round(s.latency_ms, 3),
        "fidelity_db": round(s.fidelity, 4),
        "seconds": round(s.seconds, 3),
    }


def _outcome(outcome: SearchOutcome | None, *, candidates: bool) -> dict[str, Any] | None:
    if outcome is None:
        return None
    data: dict[str, Any] = {
        "scored": len(outcome.scored),
        "seconds": round(outcome.seconds, 2),
        "candidates_per_minute": round(outcome.per_minute, 1),
        "exhausted": outcome.exhausted,
        "best": _scored(outcome.best),
    }
    if candidates:
        data["candidates"] = [_scored(s) for s in outcome.scored]
    return data


def as_dict(result: SearchResult, *, candidates: bool = True) -> dict[str, Any]:
    request, pick = result.request, result.pick
    settings = request.evolution
    return {
        "target": {
            "label": result.target,
            "device": request.device,
            "unit": request.unit if request.device != THIS_COMPUTER else "cpu",
            "precision": request.precision,
            "input_size": request.input_size,
            "budget_ms": request.budget_ms,
            "latency_model": result.latency_basis,
        },
        "search": {
            "seed": request.seed,
            "population": settings.population,
            "parent_ratio": settings.parent_ratio,
            "mutation_ratio": settings.mutation_ratio,
            "mutate_prob": settings.mutate_prob,
            "candidates": settings.candidates,
            "space_size": result.space_size,
            "supernet": result.supernet,
            "validation": {
                "patches": request.patches.count,
                "patch_size": request.patches.size,
                "photos": [p.name for p in request.patches.photos],
                "key": result.valset_key[:16],
            },
        },
        "pick": {
            "config": pick.config.encode(),
            "latency": pick.latency.as_dict(),
            "fidelity_db": round(pick.fidelity, 4),
            "macs": pick.cost.macs,
            "params": pick.cost.params,
            "peak_activation_bytes": pick.cost.peak_activation_bytes,
        },
        "front": [_scored(s) for s in result.front],
        "evolution": _outcome(result.evolution, candidates=candidates),
        "random": _outcome(result.random, candidates=candidates),
        "student": None
        if result.student is None
        else {
            "config": result.student.config.encode(),
            "latency_ms": round(result.student.latency_ms, 3),
            "fidelity_db": round(result.student.fidelity, 4),
            "fidelity_db_supernet": None
            if result.student.fidelity_supernet is None
            else round(result.student.fidelity_supernet, 4),
        },
        "references": [{"key": r.key, "title": r.title, "ms": r.ms} for r in result.references],
    }


def render_text(result: SearchResult) -> str:
    pick, lat = result.pick, result.pick.latency
    lines = [
        f"target   {result.target}, budget {result.request.budget_ms:g} ms",
        f"pick     {pick.config.encode()}",
        f"latency  {lat.ms:.2f} ms (band {lat.low_ms:.2f}-{lat.high_ms:.2f})",
        f"fidelity {pick.fidelity:.2f} dB PSNR-Y to the teacher (supernet weights, "
        f"{result.request.patches.count} validation patches)",
        f"cost     {pick.cost.macs / 1e9:.2f} GMACs, {pick.cost.params:,} params, peak activation "
        f"{pick.cost.peak_activation_bytes / 2**20:.1f} MiB at {result.request.input_size} px",
    ]
    for outcome in (result.evolution, result.random):
        if outcome is not None:
            best = outcome.best
            lines.append(
                f"{outcome.search:<10}{len(outcome.scored)} scored in {outcome.seconds:.1f} s "
                f"({outcome.per_minute:.0f}/min); best {best.fidelity:.2f} dB "
                f"{best.config.encode()} at {best.latency_ms:.2f} ms"
            )
    if (student := result.student) is not None:
        shared = student.fidelity_supernet
        lines.append(
            f"student  {student.config.encode()} (shipped): {student.latency_ms:.2f} ms, "
            f"{student.fidelity:.2f} dB with its own weights"
            + ("" if shared is None else f", {shared:.2f} dB as a supernet subnet")
        )
    lines.append("Pareto front (ms, dB, config):")
    lines += [
        f"  {s.latency_ms:7.2f}  {s.fidelity:6.2f}  {s.config.encode()}" for s in result.front
    ]
    return "\n".join(lines)


def picture(result: SearchResult) -> ParetoPicture:
    def points(outcome: SearchOutcome | None) -> list[tuple[float, float]]:
        return [(s.latency_ms, s.fidelity) for s in outcome.scored] if outcome else []

    pick = result.pick
    student = result.student
    return ParetoPicture(
        title=f"MFA subnets, {result.target}, budget {result.request.budget_ms:g} ms",
        evolution=points(result.evolution),
        random=points(result.random),
        front=[(s.latency_ms, s.fidelity) for s in result.front],
        pick=(pick.latency.ms, pick.fidelity),
        pick_label=f"pick {pick.config.encode()}",
        budget_ms=result.request.budget_ms,
        student=None if student is None else (student.latency_ms, student.fidelity),
        student_label="shipped student"
        + ("" if student is None else f" {student.config.encode()} (its own weights)"),
        references=result.references,
    )


def write_outputs(result: SearchResult, folder: Path) -> list[Path]:
    """``search.json`` and ``pareto.png`` in ``folder`` (created), each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(as_dict(result), indent=2).encode("utf-8")
    atomic_write_bytes(folder / "search.json", data)
    write_png(picture(result), folder / "pareto.png")
    return [folder / "search.json", folder / "pareto.png"]
