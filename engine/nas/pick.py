"""From a search's pick to a trained user model: its lineage, then the fine-tuning job.

``finetune_pick(result, steps=..., data=[...], out=..., name=...)`` is a generator (the
wizard runs it in a worker; ``mfagan search --finetune STEPS`` runs it after the search)
around ``engine.nas.finetune.finetune_subnet``: the pick is extracted from the supernet the
search used, distilled with the full G+D recipe, evaluated with the eval protocol and
registered as a user model whose card records ``lineage(result)``: the search settings,
budget and target, and the pick's predicted latencies (on the target, and on both compute
units of the phone for a phone target).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.events import CancelToken, Event
from engine.nas.latency import THIS_COMPUTER, UNITS, phone_latency
from engine.nas.search import SearchResult


def lineage(result: SearchResult) -> dict[str, Any]:
    """What a fine-tuned pick's model card says about the search that chose it."""
    request, pick = result.request, result.pick
    settings = request.evolution
    predicted: dict[str, Any] = {"target": pick.latency.as_dict()}
    if request.device != THIS_COMPUTER:
        for unit in UNITS:
            model = phone_latency(
                request.device, unit=unit, precision=None, size=request.input_size
            )
            predicted[unit] = model.estimate(pick.config).as_dict()
    return {
        "pick": pick.config.encode(),
        "target": result.target,
        "device": request.device,
        "unit": request.unit if request.device != THIS_COMPUTER else "cpu",
        "precision": request.precision,
        "runtime": request.runtime,
        "input_size": request.input_size,
        "budget_ms": request.budget_ms,
        "latency_model": result.latency_basis,
        "predicted_latency": predicted,
        "fidelity_db_supernet": round(pick.fidelity, 4),
        "seed": request.seed,
        "evolution": {
            "population": settings.population,
            "parent_ratio": settings.parent_ratio,
            "mutation_ratio": settings.mutation_ratio,
            "mutate_prob": settings.mutate_prob,
            "candidates_scored": len(result.evolution.scored),
        },
        "validation_patches": {
            "count": request.patches.count,
            "size": request.patches.size,
            "photos": [p.name for p in request.patches.photos],
        },
        "supernet": result.supernet,
    }


def finetune_pick(
    result: SearchResult,
    *,
    steps: int,
    data: Sequence[Path],
    out: Path,
    name: str | None,
    eval_datasets: Sequence[Path] = (),
    resume: bool = False,
    command: str = "",
    cancel: CancelToken | None = None,
) -> Iterator[Event]:
    """Fine-tune the pick into user model ``name``; ends with Finished(FinetuneResult)."""
    from engine.nas.finetune import finetune_subnet

    return finetune_subnet(
        result.request.supernet,
        result.pick.config,
        steps=steps,
        data=data,
        out=out,
        name=name,
        search=lineage(result),
        eval_datasets=eval_datasets,
        resume=resume,
        command=command,
        cancel=cancel,
    )
