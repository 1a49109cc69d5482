"""The discrete search space of MFA SubGenerators, in one place.

Every choice list comes from ``engine.models.mfa`` (what ``MFAConfig`` accepts), so the
supernet, the search and the latency models agree on what a candidate can be. A config is
also a fixed-length vector of small integers (its *genes*) for mutation and crossover:

    [blocks index, width index, inner-width index, half_res[0..max_blocks-1], downsample index]

Gene ``i`` takes values ``0 .. gene_sizes()[i] - 1``. Half-resolution flags past the
config's depth are carried along but do not change the config, so a mutation of the depth
keeps the pattern of the deeper blocks. ``from_genes`` repairs an inner width wider than the
width (the only constraint between choices) by taking the widest inner width that fits, so
any gene vector decodes to a valid config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.errors import UsageError
from engine.models.mfa_config import (
    BLOCK_CHOICES,
    DOWNSAMPLE_CHOICES,
    INNER_WIDTH_CHOICES,
    WIDTH_CHOICES,
    MFAConfig,
)

SCALE = 4  # the teacher is x4, so every subnet is too


@dataclass(frozen=True, kw_only=True)
class SearchSpace:
    """Blocks, widths, inner widths, half-resolution pattern and downsampling of a subnet.

    The default is the issue's space: stride-2-conv downsampling only, since the avg-pool
    form falls off phone NPUs; ``downsamples=("conv", "avgpool")`` opens the other one too
    (the supernet runs both with the same weights).
    """

    blocks: tuple[int, ...] = BLOCK_CHOICES
    widths: tuple[int, ...] = WIDTH_CHOICES
    inner_widths: tuple[int, ...] = INNER_WIDTH_CHOICES
    downsamples: tuple[str, ...] = ("conv",)
    scale: int = SCALE

    def __post_init__(self) -> None:
        for name, allowed in (
            ("blocks", BLOCK_CHOICES),
            ("widths", WIDTH_CHOICES),
            ("inner_widths", INNER_WIDTH_CHOICES),
            ("downsamples", DOWNSAMPLE_CHOICES),
        ):
            values = tuple(getattr(self, name))
            object.__setattr__(self, name, values)
            if not values or any(v not in allowed for v in values):
                raise UsageError(f"search space {name} must be a non-empty subset of {allowed}")
            if list(values) != sorted(set(values), key=allowed.index):
                raise UsageError(f"search space {name} must be in the order of {allowed}")
        if min(self.inner_widths) > min(self.widths):
            raise UsageError("search space: the narrowest width has no inner width that fits")

    @property
    def max_blocks(self) -> int:
        return max(self.blocks)

    def inner_choices(self, width: int) -> tuple[int, ...]:
        """Inner widths allowed beside ``width`` (never wider than it)."""
        return tuple(g for g in self.inner_widths if g <= width)

    def contains(self, config: MFAConfig) -> bool:
        return (
            config.num_blocks in self.blocks
            and config.width in self.widths
            and config.inner_width in self.inner_choices(config.width)
            and config.downsample in self.downsamples
            and config.scale == self.scale
        )

    def check(self, config: MFAConfig) -> None:
        """UsageError (one line) unless ``config`` is in the space."""
        if not self.contains(config):
            raise UsageError(f"{config.encode()} is not in the supernet's search space")

    def largest(self) -> MFAConfig:
        """Deepest, widest, every half-resolution path: it uses every supernet weight."""
        return MFAConfig(
            num_blocks=self.max_blocks,
            width=max(self.widths),
            inner_width=max(self.inner_choices(max(self.widths))),
            half_res=(True,) * self.max_blocks,
            scale=self.scale,
            downsample=self.downsamples[0],
        )

    def smallest(self) -> MFAConfig:
        """Shallowest, narrowest, no half-resolution path: the cheapest subnet."""
        return MFAConfig(
            num_blocks=min(self.blocks),
            width=min(self.widths),
            inner_width=min(self.inner_widths),
            half_res=(False,) * min(self.blocks),
            scale=self.scale,
            downsample=self.downsamples[0],
        )

    def sample(self, rng: np.random.Generator) -> MFAConfig:
        """Uniform over each choice (inner width among those that fit), fair coin per flag."""
        genes = [int(rng.integers(0, size)) for size in self.gene_sizes()]
        width = self.widths[genes[1]]
        genes[2] = int(rng.integers(0, len(self.inner_choices(width))))
        return self.from_genes(genes)

    def size(self) -> int:
        """How many distinct configs the space holds."""
        pairs = sum(len(self.inner_choices(w)) for w in self.widths)
        return sum(2**b for b in self.blocks) * pairs * len(self.downsamples)

    # ---- genes: a fixed-length integer encoding for evolutionary search ----------------

    def gene_sizes(self) -> tuple[int, ...]:
        return (
            len(self.blocks),
            len(self.widths),
            len(self.inner_widths),
            *(2,) * self.max_blocks,
            len(self.downsamples),
        )

    def to_genes(self, config: MFAConfig) -> tuple[int, ...]:
        self.check(config)
        flags = [int(f) for f in config.half_res] + [0] * (self.max_blocks - config.num_blocks)
        return (
            self.blocks.index(config.num_blocks),
            self.widths.index(config.width),
            self.inner_widths.index(config.inner_width),
            *flags,
            self.downsamples.index(config.downsample),
        )

    def from_genes(self, genes: Sequence[int]) -> MFAConfig:
        sizes = self.gene_sizes()
        if len(genes) != len(sizes) or any(
            not 0 <= g < s for g, s in zip(genes, sizes, strict=True)
        ):
            raise UsageError(f"gene vector {list(genes)} does not fit sizes {list(sizes)}")
        blocks = self.blocks[genes[0]]
        width = self.widths[genes[1]]
        fitting = self.inner_choices(width)
        inner = min(self.inner_widths[genes[2]], fitting[-1])
        return MFAConfig(
            num_blocks=blocks,
            width=width,
            inner_width=inner,
            half_res=tuple(bool(g) for g in genes[3 : 3 + blocks]),
            scale=self.scale,
            downsample=self.downsamples[genes[-1]],
        )

    def as_dict(self) -> dict[str, list]:
        return {
            "blocks": list(self.blocks),
            "widths": list(self.widths),
            "inner_widths": list(self.inner_widths),
            "downsamples": list(self.downsamples),
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, mapping: dict) -> SearchSpace:
        try:
            return cls(
                blocks=tuple(int(v) for v in mapping["blocks"]),
                widths=tuple(int(v) for v in mapping["widths"]),
                inner_widths=tuple(int(v) for v in mapping["inner_widths"]),
                downsamples=tuple(str(v) for v in mapping["downsamples"]),
                scale=int(mapping.get("scale", SCALE)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise UsageError(f"not a search space description: {error}") from None


DEFAULT_SPACE = SearchSpace()
