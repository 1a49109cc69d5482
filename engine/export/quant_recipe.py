"""How to quantize to INT8: the calibration method and the parts left in float.

Kept apart from ``quantize`` (which imports onnx and onnxruntime's quantizer, a second of
start-up) so that requests and the CLI parser can name a recipe without loading them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Method = Literal["minmax", "percentile", "entropy"]
KeepFloat = Literal["first", "last", "tail"]


@dataclass(frozen=True, kw_only=True)
class QuantRecipe:
    """How to quantize: calibration ``method`` and which parts stay float (module doc)."""

    method: Method = "minmax"
    keep_float: tuple[KeepFloat, ...] = ()
    percentile: float = 99.999

    def label(self) -> str:
        kept = "+".join(self.keep_float) or "none"
        return f"{self.method}, float kept: {kept}"

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "keep_float": list(self.keep_float)}
