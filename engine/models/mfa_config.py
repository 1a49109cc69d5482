"""The MFA student's architecture as data: ``MFAConfig``, its search space and the defaults.

Apart from the network (``engine.models.mfa``) so that configs, parsers and the latency
models can name an architecture without importing torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import UsageError

# The search space of the supernet (docs/MFAGAN.md); every config must lie inside it, except
# that a student may be deeper than the search goes (DEPTH_CHOICES): one grown from a trained
# student (engine.models.mfa_growth) to measure whether depth is what it lacks.
BLOCK_CHOICES = (2, 3, 4, 5, 6)
DEPTH_CHOICES = (*BLOCK_CHOICES, 7, 8)
WIDTH_CHOICES = (16, 24, 32, 48)
INNER_WIDTH_CHOICES = (8, 16, 24, 32)
SCALE_CHOICES = (2, 3, 4)
DOWNSAMPLE_CHOICES = ("conv", "avgpool")

_ENCODED = re.compile(r"b(\d+)-c(\d+)-g(\d+)-h([01]+)-(\w+)-x(\d+)")


@dataclass(frozen=True, kw_only=True)
class MFAConfig:
    """One student architecture. ``half_res[i]`` switches block i's half-resolution path.

    ``downsample`` picks how that path halves the resolution: ``"conv"`` (its first 3x3 conv
    has stride 2; stays on phone NPUs) or ``"avgpool"`` (2x2 average pool, then a stride-1
    conv; the textbook form, known to fall off NPUs).
    """

    num_blocks: int
    width: int
    inner_width: int
    half_res: tuple[bool, ...]
    scale: int = 4
    downsample: str = "conv"

    def __post_init__(self) -> None:
        object.__setattr__(self, "half_res", tuple(self.half_res))
        _check_choice("num_blocks", self.num_blocks, DEPTH_CHOICES)
        _check_choice("width", self.width, WIDTH_CHOICES)
        _check_choice("inner_width", self.inner_width, INNER_WIDTH_CHOICES)
        _check_choice("scale", self.scale, SCALE_CHOICES)
        _check_choice("downsample", self.downsample, DOWNSAMPLE_CHOICES)
        if self.inner_width > self.width:
            raise ValueError(
                f"inner_width ({self.inner_width}) must not exceed width ({self.width})"
            )
        if len(self.half_res) != self.num_blocks:
            raise ValueError(
                f"half_res has {len(self.half_res)} entries for {self.num_blocks} blocks"
            )
        if not all(isinstance(flag, bool) for flag in self.half_res):
            raise ValueError(f"half_res entries must be bool, got {self.half_res!r}")

    @property
    def size_multiple(self) -> int:
        """Height and width must be even when any block halves the resolution."""
        return 2 if any(self.half_res) else 1

    def encode(self) -> str:
        """A stable, human-readable id, e.g. ``b4-c32-g16-h1111-conv-x4``."""
        flags = "".join("1" if flag else "0" for flag in self.half_res)
        return (
            f"b{self.num_blocks}-c{self.width}-g{self.inner_width}-h{flags}"
            f"-{self.downsample}-x{self.scale}"
        )

    @classmethod
    def decode(cls, text: str) -> MFAConfig:
        """Parse :meth:`encode`'s output; UsageError (one line) for anything else."""
        match = _ENCODED.fullmatch(text.strip())
        if match is None:
            raise UsageError(
                f"not an MFA config: {text!r} (expected e.g. 'b4-c32-g16-h1111-conv-x4')"
            )
        blocks, width, inner, flags, downsample, scale = match.groups()
        try:
            return cls(
                num_blocks=int(blocks),
                width=int(width),
                inner_width=int(inner),
                half_res=tuple(flag == "1" for flag in flags),
                scale=int(scale),
                downsample=downsample,
            )
        except ValueError as error:
            raise UsageError(f"invalid MFA config {text!r}: {error}") from None


def _check_choice(name: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


LARGEST_CONFIG = MFAConfig(num_blocks=6, width=48, inner_width=32, half_res=(True,) * 6)
# The shipped student's architecture: the largest in the search space that still meets all
# three cost goals against the teacher (MACs >= 50x, memory access >= 10x, peak activation
# >= 10x; width 48 fails the last), because fidelity to the teacher grows with capacity.
DEFAULT_CONFIG = MFAConfig(num_blocks=6, width=32, inner_width=32, half_res=(True,) * 6)
