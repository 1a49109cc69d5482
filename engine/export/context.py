"""What every export step shares: the model, the validation crops and reference outputs.

Apart from ``formats`` (the steps) so that ``facts``, which the steps call, can name it
without importing them back.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from engine.errors import ModelError
from engine.events import CancelToken, Event, Progress
from engine.export.fidelity import Runner, measure
from engine.export.request import ExportRequest
from engine.models.descriptor import ModelDescriptor


@dataclass(kw_only=True)
class ExportContext:
    """What every step needs: the model, the crops and the reference outputs (mutable: steps
    share the float and INT8 ONNX they build)."""

    request: ExportRequest
    descriptor: ModelDescriptor
    module: nn.Module
    work: Path
    validation: np.ndarray
    float_outputs: np.ndarray
    teacher: list[np.ndarray] | None
    cancel: CancelToken
    calibration: np.ndarray | None = None
    calibration_info: dict[str, Any] | None = None
    float_onnx: bytes | None = None
    int8_onnx: bytes | None = None

    @property
    def base(self) -> str:
        """The model's name made safe for a file name."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", self.descriptor.name).strip("._") or "model"

    @property
    def stem(self) -> str:
        return f"{self.base}-{self.request.size}"

    def checked(
        self, runner: Runner, *, tolerance: float | None
    ) -> Generator[Event, None, dict[str, Any]]:
        """Run ``runner`` on the validation crops and measure it against float and teacher."""
        outputs = []
        total = len(self.validation)
        for index in range(total):
            self.cancel.raise_if_cancelled()
            yield Progress(stage="verify", done=index, total=total)
            outputs.append(runner(self.validation[index : index + 1]))
        yield Progress(stage="verify", done=total, total=total)
        result = measure(
            np.concatenate(outputs), self.float_outputs, self.teacher, border=self.descriptor.scale
        )
        if tolerance is not None and not result.max_abs_diff <= tolerance:
            raise ModelError(
                f"the export of {self.descriptor.name!r} differs from PyTorch by up to "
                f"{result.max_abs_diff:.3g} (more than {tolerance:.3g}); not written"
            )
        return {"max_abs_diff_vs_torch": float(f"{result.max_abs_diff:.3g}")} | {
            "fidelity": result.as_dict()
        }
