"""Evolutionary and random search: never over budget, reproducible by seed, better than random
on a landscape with structure, stops when the feasible space runs out, honours cancel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from engine.events import Cancelled, CancelToken, Finished
from engine.models.mfa import MFAConfig
from engine.nas.evolution import (
    CandidateScored,
    EvolutionSettings,
    SearchOutcome,
    evolve,
    random_search,
)
from engine.nas.pareto import pareto_front
from engine.nas.space import DEFAULT_SPACE
from engine.phones.mfa_ops import mfa_ops


class GridSpace:
    """Configs are tuples of 6 genes in 0..9; a toy stand-in for the MFA space."""

    def gene_sizes(self) -> tuple[int, ...]:
        return (10,) * 6

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        return tuple(int(g) for g in rng.integers(0, 10, 6))

    def to_genes(self, config: tuple[int, ...]) -> tuple[int, ...]:
        return config

    def from_genes(self, genes: Sequence[int]) -> tuple[int, ...]:
        return tuple(int(g) for g in genes)


def grid_latency(config: tuple[int, ...]) -> float:
    return float(sum(config))


def grid_fitness(config: tuple[int, ...]) -> float:
    """Rewards genes near a target pattern: structure that evolution can climb."""
    target = (9, 0, 7, 2, 5, 5)
    return -float(sum((a - b) ** 2 for a, b in zip(config, target, strict=True)))


def _run(job) -> tuple[list[CandidateScored], SearchOutcome]:
    events = list(job)
    assert isinstance(events[-1], Finished)
    return [e for e in events if isinstance(e, CandidateScored)], events[-1].result


def _evolve(seed: int, *, budget: float = 30, candidates: int = 300, space=None, **kw):
    settings = EvolutionSettings(population=20, candidates=candidates)
    return _run(
        evolve(
            space or GridSpace(), kw.get("fitness", grid_fitness), kw.get("latency", grid_latency),
            budget_ms=budget, settings=settings, rng=np.random.default_rng(seed),
            cancel=kw.get("cancel"), anchors=kw.get("anchors", ()),
        )
    )  # fmt: skip


def test_nothing_over_budget_is_scored_or_returned():
    events, outcome = _evolve(0, budget=20)
    assert len(outcome.scored) == 300 == len(events)
    assert all(s.latency_ms <= 20 for s in outcome.scored)
    assert outcome.best.latency_ms <= 20
    assert len({s.config for s in outcome.scored}) == 300  # distinct configs


def test_a_seed_reproduces_the_search_and_another_seed_differs():
    first = [s.config for s in _evolve(7)[1].scored]
    again = [s.config for s in _evolve(7)[1].scored]
    other = [s.config for s in _evolve(8)[1].scored]
    assert first == again
    assert first != other


def test_evolution_beats_random_search_at_equal_candidate_count():
    # Feasible space: sum <= 30 of six 0..9 genes, about 600k configs; 300 scored.
    wins = 0
    for seed in range(3):
        evolution = _evolve(seed)[1]
        _, random = _run(
            random_search(
                GridSpace(), grid_fitness, grid_latency, budget_ms=30,
                candidates=len(evolution.scored), rng=np.random.default_rng(seed),
            )
        )  # fmt: skip
        assert len(random.scored) == len(evolution.scored)
        assert all(s.latency_ms <= 30 for s in random.scored)
        wins += evolution.best.fidelity > random.best.fidelity
    assert wins == 3


def test_stops_when_the_feasible_space_is_used_up():
    # Only configs with gene sum <= 1 fit: 7 of a million, too few for samples to hit; the
    # anchor (known to fit) seeds the population and mutation finds most of the rest.
    feasible = {(0,) * 6} | {tuple(int(i == j) for i in range(6)) for j in range(6)}
    _, outcome = _evolve(0, budget=1, candidates=100, anchors=[(0,) * 6])
    assert outcome.exhausted  # stopped, not spinning
    found = {s.config for s in outcome.scored}
    assert (0,) * 6 in found and found <= feasible and len(found) >= 4
    _, random = _run(
        random_search(
            GridSpace(), grid_fitness, grid_latency, budget_ms=1, candidates=100,
            rng=np.random.default_rng(0), anchors=[(0,) * 6],
        )
    )  # fmt: skip
    assert random.exhausted
    assert [s.config for s in random.scored] == [(0,) * 6]


def test_without_a_feasible_config_nothing_is_scored():
    _, outcome = _evolve(0, budget=-1, candidates=10)
    assert outcome.exhausted and outcome.scored == ()


def test_cancel_stops_before_the_next_score():
    cancel = CancelToken()
    job = evolve(
        GridSpace(), grid_fitness, grid_latency, budget_ms=30,
        settings=EvolutionSettings(population=10, candidates=50),
        rng=np.random.default_rng(0), cancel=cancel,
    )  # fmt: skip
    seen = 0
    with pytest.raises(Cancelled):
        for event in job:
            if isinstance(event, CandidateScored):
                seen += 1
                if seen == 5:
                    cancel.cancel()
    assert seen == 5


def _macs_latency(config: MFAConfig) -> float:
    """A stand-in phone model: ms proportional to MACs at 128x128 (1 GMAC = 10 ms)."""
    return mfa_ops(config, 128, 128).macs / 1e8


def test_real_space_never_returns_a_config_over_budget():
    def fitness(config: MFAConfig) -> float:  # capacity helps, half-res helps a bit
        return config.num_blocks * config.width * config.inner_width + sum(config.half_res)

    for budget in (4.0, 15.0, 40.0):
        _, outcome = _evolve(
            1, budget=budget, candidates=150, space=DEFAULT_SPACE, fitness=fitness,
            latency=_macs_latency,
        )  # fmt: skip
        assert outcome.scored
        assert all(DEFAULT_SPACE.contains(s.config) for s in outcome.scored)
        assert max(_macs_latency(s.config) for s in outcome.scored) <= budget
        front = pareto_front(outcome.scored)
        assert outcome.best in front


def test_pareto_front_keeps_exactly_the_non_dominated():
    class P:
        def __init__(self, ms: float, db: float) -> None:
            self.latency_ms, self.fidelity = ms, db

    points = [P(1, 20), P(2, 19), P(2, 22), P(3, 22), P(4, 25), P(5, 24)]
    front = pareto_front(points)
    assert [(p.latency_ms, p.fidelity) for p in front] == [(1, 20), (2, 22), (4, 25)]


def test_settings_reject_nonsense():
    with pytest.raises(ValueError):
        EvolutionSettings(population=1)
    with pytest.raises(ValueError):
        EvolutionSettings(mutate_prob=0)
    with pytest.raises(ValueError):
        EvolutionSettings(parent_ratio=1.5)
