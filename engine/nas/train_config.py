"""Configuration of a supernet training run: a distillation config plus a ``[supernet]`` table.

The file is a ``mfagan distill`` config (data, degradation, losses, schedule, seed, teacher;
``student`` names the space's largest subnet, ``init`` the trained student the supernet is
warm-started from) with one more table::

    [supernet]
    rule = "sandwich"        # or "progressive" (shrinking: depth, half-res, inner, width)
    random_subnets = 2       # random subnets per step besides the largest (and smallest)
    inplace = 1.0            # weight of the L1 to the largest subnet's output
    sort_channels = true     # L1 importance sorting after the warm start

Only ``losses.distill`` and ``losses.gt`` are used by the supernet (output-level
distillation of every subnet); ``feature_pairs`` only decides which teacher features the
cache keeps, for fine-tuning extracted subnets on the same cache.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.distill.config import (
    DistillConfig,
    config_from_dict,
    config_to_dict,
    read_config_file,
)
from engine.errors import UsageError
from engine.nas.space import DEFAULT_SPACE, SearchSpace

RULES = ("sandwich", "progressive")


@dataclass(frozen=True, kw_only=True)
class SupernetRules:
    rule: str = "sandwich"
    random_subnets: int = 2
    inplace: float = 1.0
    sort_channels: bool = True

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise UsageError(f"supernet.rule must be one of {', '.join(RULES)}")
        if self.random_subnets < 0:
            raise UsageError("supernet.random_subnets must be >= 0")
        if self.inplace < 0:
            raise UsageError("supernet.inplace must be >= 0")


@dataclass(frozen=True, kw_only=True)
class SupernetConfig:
    distill: DistillConfig
    rules: SupernetRules = field(default_factory=SupernetRules)
    space: SearchSpace = DEFAULT_SPACE

    def __post_init__(self) -> None:
        if self.distill.student != self.space.largest():
            raise UsageError(
                f"student must be the space's largest subnet {self.space.largest().encode()}, "
                f"not {self.distill.student.encode()}"
            )


def _rules(mapping: dict[str, Any]) -> SupernetRules:
    if not isinstance(mapping, dict):
        raise UsageError("supernet must be a table")
    known = {f.name: f.type for f in dataclasses.fields(SupernetRules)}
    unknown = sorted(set(mapping) - set(known))
    if unknown:
        raise UsageError(f"unknown key(s) in supernet: {', '.join(unknown)}")
    for key, value in mapping.items():
        expected = {"str": str, "int": int, "float": (int, float), "bool": bool}[known[key]]
        if isinstance(value, bool) != (known[key] == "bool") or not isinstance(value, expected):
            raise UsageError(f"supernet.{key} must be {known[key]}, got {value!r}")
    return SupernetRules(**mapping)


def supernet_config_from_dict(mapping: dict[str, Any]) -> SupernetConfig:
    mapping = dict(mapping)
    rules = _rules(mapping.pop("supernet", {}))
    space = SearchSpace.from_dict(mapping.pop("space")) if "space" in mapping else DEFAULT_SPACE
    return SupernetConfig(distill=config_from_dict(mapping), rules=rules, space=space)


def supernet_config_to_dict(config: SupernetConfig) -> dict[str, Any]:
    """JSON-ready; round-trips through :func:`supernet_config_from_dict`."""
    return config_to_dict(config.distill) | {
        "supernet": dataclasses.asdict(config.rules),
        "space": config.space.as_dict(),
    }


def load_supernet_config(path: Path) -> SupernetConfig:
    """Read a .toml or .json file; relative data folders are relative to the file."""
    return supernet_config_from_dict(read_config_file(path))
