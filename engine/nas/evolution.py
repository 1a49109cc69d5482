"""Evolutionary search and its random-search baseline over any gene-encoded space.

The algorithm is once-for-all's evolution finder (Cai et al. 2020): a population of
feasible candidates; each generation keeps the best ``parent_ratio`` as parents, fills
``mutation_ratio`` of the population with mutants of random parents (each gene resampled
with ``mutate_prob``) and the rest with uniform crossovers of two parents. A child that
finds nothing new near its parents (a converged population in a small space) is replaced
by a random immigrant, so the search keeps scoring new candidates. *Feasible* means
the latency model predicts the candidate within the budget: an infeasible child is redrawn,
never scored, so nothing over budget is ever kept or returned.

Both searches stop after ``candidates`` distinct configs have been scored (the fitness is
memoised per search, so a child equal to an earlier candidate costs nothing and does not
count), or when the feasible part of the space runs out. They are generators: each newly
scored candidate is a :class:`CandidateScored` event (the GUI draws it as it arrives),
the cancel token is checked before every score, and the result comes in ``Finished``.
Everything random draws from one seeded ``numpy`` generator, so a seed reproduces a run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from engine.events import CancelToken, Event, Finished, Progress

C = TypeVar("C", bound=Hashable)

# Draws allowed for one new feasible sample / child before settling for less (latency
# predictions cost well under a millisecond, and repeats hit the predictor's cache).
MAX_SAMPLE_DRAWS = 1000
MAX_CHILD_DRAWS = 10
# Generations in a row that found nothing new: the reachable feasible space is used up.
MAX_STALE_GENERATIONS = 5


class GeneSpace(Protocol[C]):
    """What the search needs of a space (``engine.nas.space.SearchSpace`` is one)."""

    def sample(self, rng: np.random.Generator) -> C: ...
    def gene_sizes(self) -> tuple[int, ...]: ...
    def to_genes(self, config: C) -> tuple[int, ...]: ...
    def from_genes(self, genes: Sequence[int]) -> C: ...


@dataclass(frozen=True, kw_only=True)
class EvolutionSettings:
    """Once-for-all's defaults; ``candidates`` is the number of distinct configs to score.

    500: the MFA space holds 1612 configs (about 1100 within 15 ms on the 865's GPU); on a
    supernet checkpoint, evolution found the best of all feasible configs within 300 in most
    seeds, so 500 leaves a margin at about half a minute of scoring.
    """

    population: int = 100
    parent_ratio: float = 0.25
    mutation_ratio: float = 0.5
    mutate_prob: float = 0.1
    candidates: int = 500

    def __post_init__(self) -> None:
        if self.population < 2 or self.candidates < 1:
            raise ValueError("population must be at least 2 and candidates at least 1")
        if not 0 < self.parent_ratio <= 1 or not 0 <= self.mutation_ratio <= 1:
            raise ValueError("parent_ratio must be in (0, 1] and mutation_ratio in [0, 1]")
        if not 0 < self.mutate_prob <= 1:
            raise ValueError("mutate_prob must be in (0, 1]")

    @property
    def parents(self) -> int:
        return max(1, round(self.population * self.parent_ratio))

    @property
    def mutants(self) -> int:
        return round(self.population * self.mutation_ratio)


@dataclass(frozen=True, kw_only=True)
class Scored(Generic[C]):
    """One scored candidate: predicted latency, fidelity, and when it was scored."""

    config: C
    latency_ms: float
    fidelity: float
    index: int  # 0-based order of scoring within its search
    seconds: float  # since the search started


@dataclass(frozen=True, kw_only=True)
class CandidateScored:
    """Progress event: ``candidate`` was just scored by the ``search`` named here."""

    search: str  # "evolution" or "random"
    candidate: Scored[Any]
    total: int


@dataclass(frozen=True, kw_only=True)
class SearchOutcome(Generic[C]):
    """Every scored candidate in order, the best one, and the time it all took."""

    search: str
    scored: tuple[Scored[C], ...]
    seconds: float
    exhausted: bool  # stopped early: no new feasible candidate could be found

    @property
    def best(self) -> Scored[C]:
        return max(self.scored, key=lambda s: (s.fidelity, -s.latency_ms, -s.index))

    @property
    def per_minute(self) -> float:
        return 60.0 * len(self.scored) / self.seconds if self.seconds > 0 else float("inf")


class _Run(Generic[C]):
    """The memo, the budget test and the event stream one search shares."""

    def __init__(
        self,
        name: str,
        fitness: Callable[[C], float],
        latency: Callable[[C], float],
        budget_ms: float,
        target: int,
        cancel: CancelToken | None,
    ) -> None:
        self.name, self.fitness, self.latency = name, fitness, latency
        self.budget_ms, self.target, self.cancel = budget_ms, target, cancel
        self.scores: dict[C, Scored[C]] = {}
        self.start = time.perf_counter()

    @property
    def done(self) -> bool:
        return len(self.scores) >= self.target

    def feasible(self, config: C) -> bool:
        return self.latency(config) <= self.budget_ms

    def score(self, config: C) -> Generator[Event | CandidateScored, None, Scored[C]]:
        """The memoised score; a new one is announced with two events."""
        if config in self.scores:
            return self.scores[config]
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()
        fidelity = float(self.fitness(config))
        scored = Scored(
            config=config,
            latency_ms=float(self.latency(config)),
            fidelity=fidelity,
            index=len(self.scores),
            seconds=time.perf_counter() - self.start,
        )
        self.scores[config] = scored
        yield CandidateScored(search=self.name, candidate=scored, total=self.target)
        yield Progress(stage=f"{self.name} search", done=len(self.scores), total=self.target)
        return scored

    def outcome(self, *, exhausted: bool) -> SearchOutcome[C]:
        return SearchOutcome(
            search=self.name,
            scored=tuple(self.scores.values()),
            seconds=time.perf_counter() - self.start,
            exhausted=exhausted,
        )


def _draw(make: Callable[[], C], run: _Run[C], tries: int, anchors: Sequence[C] = ()) -> C | None:
    """A feasible config not scored yet, drawn from ``make``; failing that within ``tries``,
    the first such anchor (a config known to fit, e.g. the smallest: a tight budget may leave
    too few feasible configs for uniform samples to hit), else a feasible repeat, else None.
    """
    repeat = None
    for _ in range(tries):
        config = make()
        if run.feasible(config):
            if config not in run.scores:
                return config
            repeat = config
    fresh = (a for a in anchors if a not in run.scores and run.feasible(a))
    return next(fresh, repeat)


def _mutate(space: GeneSpace[C], config: C, prob: float, rng: np.random.Generator) -> C:
    genes = list(space.to_genes(config))
    for i, size in enumerate(space.gene_sizes()):
        if rng.random() < prob:
            genes[i] = int(rng.integers(0, size))
    return space.from_genes(genes)


def _crossover(space: GeneSpace[C], a: C, b: C, rng: np.random.Generator) -> C:
    pick = rng.random(len(space.gene_sizes())) < 0.5
    genes = [
        x if take else y
        for x, y, take in zip(space.to_genes(a), space.to_genes(b), pick, strict=True)
    ]
    return space.from_genes(genes)


def evolve(
    space: GeneSpace[C],
    fitness: Callable[[C], float],
    latency: Callable[[C], float],
    *,
    budget_ms: float,
    settings: EvolutionSettings,
    rng: np.random.Generator,
    cancel: CancelToken | None = None,
    anchors: Sequence[C] = (),
) -> Generator[Event | CandidateScored, None, None]:
    """Evolutionary search; ends with ``Finished(SearchOutcome)``. ``anchors``: see _draw."""
    run: _Run[C] = _Run("evolution", fitness, latency, budget_ms, settings.candidates, cancel)
    population: list[Scored[C]] = []
    while len(population) < settings.population and not run.done:
        config = _draw(lambda: space.sample(rng), run, MAX_SAMPLE_DRAWS, anchors)
        if config is None or config in run.scores:
            break  # nothing new in MAX_SAMPLE_DRAWS samples; mutation and crossover look on
        population.append((yield from run.score(config)))
    exhausted = not population
    stale = 0
    while not run.done and not exhausted and population:
        before = len(run.scores)
        population = yield from _generation(space, run, population, settings, rng)
        stale = stale + 1 if len(run.scores) == before else 0
        exhausted = stale >= MAX_STALE_GENERATIONS
    yield Finished(result=run.outcome(exhausted=exhausted))


def _ranked(population: Sequence[Scored[C]], space: GeneSpace[C]) -> list[Scored[C]]:
    """Distinct configs, best first; ties by lower latency, then genes, so the order never
    depends on luck (a repeated child must not take two parent places)."""
    unique = {s.config: s for s in population}.values()
    return sorted(unique, key=lambda s: (-s.fidelity, s.latency_ms, space.to_genes(s.config)))


def _generation(
    space: GeneSpace[C],
    run: _Run[C],
    population: list[Scored[C]],
    settings: EvolutionSettings,
    rng: np.random.Generator,
) -> Generator[Event | CandidateScored, None, list[Scored[C]]]:
    parents = _ranked(population, space)[: settings.parents]
    children: list[Scored[C]] = []
    for i in range(settings.population - len(parents)):
        if run.done:
            break
        if i < settings.mutants:
            parent = parents[int(rng.integers(len(parents)))].config
            make = lambda p=parent: _mutate(space, p, settings.mutate_prob, rng)  # noqa: E731
            child = _draw(make, run, MAX_CHILD_DRAWS)
        else:
            a, b = (parents[int(j)].config for j in rng.integers(len(parents), size=2))
            child = _draw(lambda a=a, b=b: _crossover(space, a, b, rng), run, MAX_CHILD_DRAWS)
        if child is None or child in run.scores:
            # The parents' neighbourhood is used up: a random immigrant keeps the search
            # scoring new candidates instead of re-drawing the same ones.
            child = _draw(lambda: space.sample(rng), run, MAX_CHILD_DRAWS) or child
        if child is not None:
            children.append((yield from run.score(child)))
    return parents + children


def random_search(
    space: GeneSpace[C],
    fitness: Callable[[C], float],
    latency: Callable[[C], float],
    *,
    budget_ms: float,
    candidates: int,
    rng: np.random.Generator,
    cancel: CancelToken | None = None,
    anchors: Sequence[C] = (),
) -> Generator[Event | CandidateScored, None, None]:
    """The baseline: uniform feasible samples until ``candidates`` distinct ones are scored."""
    run: _Run[C] = _Run("random", fitness, latency, budget_ms, candidates, cancel)
    while not run.done:
        config = _draw(lambda: space.sample(rng), run, MAX_SAMPLE_DRAWS, anchors)
        if config is None or config in run.scores:
            break  # nothing new found in MAX_SAMPLE_DRAWS samples
        yield from run.score(config)
    yield Finished(result=run.outcome(exhausted=not run.done))
