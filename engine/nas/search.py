"""Hardware-aware search: the MFA SubGenerator most faithful to the teacher within a budget.

Python API (the CLI's ``mfagan search`` and the GUI wizard both use it)::

    from engine.nas.search import SearchRequest, SearchResult, run_search
    from engine.nas.evolution import CandidateScored

    request = SearchRequest(device="snapdragon-865", budget_ms=15, unit="gpu", seed=0)
    for event in run_search(request, cancel):     # a generator; honours cancel
        if isinstance(event, CandidateScored):    # event.search: "evolution" | "random"
            c = event.candidate                   # c.config, c.latency_ms, c.fidelity
        ...                                       # Progress / Notice as every job
    # the last event is Finished(result=SearchResult)

``device`` is a phone profile id (``resources/phones/*.json``) or ``"this-computer"``
(budget in ms for a ``size`` x ``size`` photo, 512 by default, on onnxruntime's CPU).
``CandidateScored`` events carry every scored candidate as it is scored, so a live Pareto
plot can fill as they arrive. The result holds the pick (config, latency with band, MACs,
params, peak activation, fidelity), the Pareto front of everything scored, both searches in
full (evolution and the random baseline with the same budget and the same number of scored
candidates, each with its time), the shipped student's point and the public reference
nets' published latencies on the target. ``engine.nas.report`` turns it into text, JSON and
the Pareto PNG; ``engine.nas.pick.finetune_pick(result, ...)`` makes the pick a trained
user model.

Steps: the latency predictor for the target (a phone profile's calibrated analytic model,
or a model of this computer fitted on timed subnets); a check that the budget admits the
smallest subnet; the supernet (shared weights) and the fixed validation patches with the
teacher's outputs (cached on disk); evolution; the random baseline. Bad input raises
UsageError (one line, exit 2) before any long work starts. Scoring uses CUDA when present.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.errors import UsageError
from engine.events import CancelToken, Event, Finished, Notice, result_of
from engine.files import file_sha256
from engine.models.mfa import MFAConfig
from engine.models.profiling import CostReport, profile_model
from engine.nas.evolution import EvolutionSettings, SearchOutcome, evolve, random_search
from engine.nas.fitness import FidelityScorer
from engine.nas.latency import THIS_COMPUTER, LatencyPredictor, ReferencePoint, phone_latency
from engine.nas.pareto import pareto_front
from engine.nas.valset import PatchPlan, build_validation_set
from engine.phones.model import LatencyEstimate

DEFAULT_TEACHER = "realesrgan-x4plus"


@dataclass(frozen=True, kw_only=True)
class SearchRequest:
    """One search. ``size``: LR input side for phones (default 128), photo side for this
    computer (default 512). ``supernet`` None means the shipped one."""

    device: str = "snapdragon-865"
    budget_ms: float
    unit: str = "gpu"
    precision: str | None = None
    runtime: str | None = None  # phones: tflite, qnn_dlc, onnx (None: the profile's first)
    size: int | None = None
    seed: int = 0
    evolution: EvolutionSettings = field(default_factory=EvolutionSettings)
    baseline: bool = True
    supernet: Path | None = None
    teacher: str = DEFAULT_TEACHER
    patches: PatchPlan = field(default_factory=PatchPlan)
    threads: int = 1
    host_refit: bool = False

    def __post_init__(self) -> None:
        if not math.isfinite(self.budget_ms) or self.budget_ms <= 0:
            raise UsageError(f"the budget must be a positive number of ms, not {self.budget_ms:g}")
        if self.threads < 1:
            raise UsageError("threads must be at least 1")
        if self.size is not None and (self.size < 8 or self.size % 2):
            # Half-resolution paths halve the input: odd sides would not round-trip.
            raise UsageError(f"--size must be an even number of pixels >= 8, not {self.size}")

    @property
    def input_size(self) -> int:
        default = 512 if self.device == THIS_COMPUTER else 128
        return self.size if self.size is not None else default


@dataclass(frozen=True, kw_only=True)
class Pick:
    """The chosen subnet and what it costs on the target and at the request's size."""

    config: MFAConfig
    latency: LatencyEstimate
    fidelity: float
    cost: CostReport


@dataclass(frozen=True, kw_only=True)
class StudentPoint:
    """The shipped student on the same axes: its own trained weights, and its config's
    slice of the supernet (None when the config is outside the supernet's space)."""

    config: MFAConfig
    latency_ms: float
    fidelity: float
    fidelity_supernet: float | None


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    request: SearchRequest
    pick: Pick
    evolution: SearchOutcome[MFAConfig]
    random: SearchOutcome[MFAConfig] | None
    front: tuple
    student: StudentPoint | None
    references: tuple[ReferencePoint, ...]
    latency_basis: str
    target: str  # e.g. "Snapdragon 865 GPU w8a8, 128x128 input"
    supernet: str  # file and sha256
    valset_key: str
    space_size: int


def _predictor(request: SearchRequest, cancel: CancelToken | None):
    if request.device == THIS_COMPUTER:
        from engine.inference.backends import available_threads
        from engine.nas.host_latency import host_latency

        # The app runs on every core, on the runtime --backend auto picks here: so that is
        # what is timed (host_latency picks it once for the whole search).
        threads = available_threads()
        return (
            yield from result_of(
                host_latency(
                    size=request.input_size, threads=threads, refit=request.host_refit,
                    cancel=cancel,
                )
            )
        )  # fmt: skip
    return phone_latency(
        request.device, unit=request.unit, precision=request.precision,
        size=request.input_size, runtime=request.runtime,
    )  # fmt: skip


def check_budget(request: SearchRequest, latency: LatencyPredictor, smallest: MFAConfig) -> None:
    """UsageError when even the smallest subnet is predicted over the budget."""
    floor = latency(smallest)
    if floor > request.budget_ms:
        raise UsageError(
            f"budget {request.budget_ms:g} ms is below the smallest subnet "
            f"({smallest.encode()}, predicted {floor:.2f} ms on {request.device})"
        )


def _load_supernet(request: SearchRequest):
    from engine.nas.supernet import SHIPPED_SUPERNET, load_supernet

    path = request.supernet or SHIPPED_SUPERNET
    if not path.is_file():
        raise UsageError(f"{path}: no supernet file (train one or pass --supernet FILE)")
    return load_supernet(path), f"{path.name} sha256:{file_sha256(path)[:16]}"


def _teacher_id(spec: str) -> str:
    path = Path(spec)
    if path.suffix.lower() == ".safetensors" and path.is_file():
        return file_sha256(path)
    from engine.models.registry import get_model

    return get_model(spec).weights_id()


def _teacher_loader(spec: str):
    def load() -> torch.nn.Module:
        from engine.distill.teacher_net import load_teacher

        return load_teacher(spec)

    return load


def run_search(
    request: SearchRequest, cancel: CancelToken | None = None
) -> Generator[Event, None, None]:
    """The whole search as a job (see the module docstring); ends with Finished(SearchResult)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(request.threads)
    try:
        result = yield from _search(request, cancel)
    finally:
        torch.set_num_threads(threads)  # the GUI's other jobs keep their own setting
    yield Finished(result=result)


def _search(
    request: SearchRequest, cancel: CancelToken | None
) -> Generator[Event, None, SearchResult]:
    latency = yield from _predictor(request, cancel)
    supernet, supernet_id = _load_supernet(request)
    space = supernet.space
    check_budget(request, latency, space.smallest())
    valset = yield from result_of(
        build_validation_set(
            request.patches,
            teacher=_teacher_loader(request.teacher),
            teacher_id=_teacher_id(request.teacher),
            cancel=cancel,
        )
    )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    scorer = FidelityScorer(supernet, valset, device=device)
    yield Notice(message=f"latency: {latency.describe()}")
    streams = np.random.SeedSequence(request.seed).spawn(2)
    budget = request.budget_ms
    anchors = (space.smallest(),)  # fits: check_budget said so
    evolution = yield from result_of(
        evolve(
            space, scorer, latency, budget_ms=budget, settings=request.evolution,
            rng=np.random.default_rng(streams[0]), cancel=cancel, anchors=anchors,
        )
    )  # fmt: skip
    random = None
    if request.baseline:
        random = yield from result_of(
            random_search(
                space, scorer.uncached(), latency, budget_ms=budget,
                candidates=len(evolution.scored), rng=np.random.default_rng(streams[1]),
                cancel=cancel, anchors=anchors,
            )
        )  # fmt: skip
    return _result(request, latency, scorer, supernet, supernet_id, evolution, random)


def _result(request, latency, scorer, supernet, supernet_id, evolution, random) -> SearchResult:
    best = evolution.best
    net = supernet.extract(best.config).cpu().eval()
    size = request.input_size
    cost = profile_model(net, height=size, width=size)
    student = _student_point(latency, scorer, supernet.space)
    everything = evolution.scored + (random.scored if random else ())
    return SearchResult(
        request=request,
        pick=Pick(
            config=best.config, latency=latency.estimate(best.config), fidelity=best.fidelity,
            cost=cost,
        ),
        evolution=evolution,
        random=random,
        front=tuple(pareto_front(everything)),
        student=student,
        references=latency.references(),
        latency_basis=latency.describe(),
        target=latency.label(),
        supernet=supernet_id,
        valset_key=scorer.valset_key,
        space_size=supernet.space.size(),
    )  # fmt: skip


def _student_point(latency, scorer: FidelityScorer, space) -> StudentPoint | None:
    from engine.models.registry import STUDENT_NAME, get_model

    descriptor = get_model(STUDENT_NAME)
    config = descriptor.config
    if not descriptor.trained or not isinstance(config, MFAConfig):
        return None
    return StudentPoint(
        config=config,
        latency_ms=latency(config),
        fidelity=scorer.score_module(descriptor.load()),
        fidelity_supernet=scorer(config) if space.contains(config) else None,
    )
