"""What to export: a frozen request, checked before any work starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import UsageError
from engine.export.quant_recipe import QuantRecipe
from engine.phones.aihub import RUNTIMES, UNITS, Runtime, Unit

FORMATS = ("onnx", "onnx-int8", "tflite", "tflite-int8", "torchscript", "aihub")
INT8_FORMATS = frozenset({"onnx-int8", "tflite-int8"})
DEFAULT_SIZE = 128
DEFAULT_TEACHER = "realesrgan-x4plus"
# ONNX INT8 unless told otherwise: every op in int8, so the whole graph can stay on a phone
# NPU. For the shipped student it loses 0.09 dB of fidelity to the teacher (goal: at most
# 0.3); keeping the first and last convs and the tail in float saves only 0.014 dB more
# (docs/EXPORT.md has the measurements).
DEFAULT_RECIPE = QuantRecipe(method="minmax", keep_float=())


@dataclass(frozen=True, kw_only=True)
class ExportRequest:
    """One ``mfagan export`` call.

    model: registry name or weights file. formats: any of ``FORMATS``. size: the LR tile side
    phone files are fixed to. device: phone profile (default the Snapdragon 865), which
    also names the AI Hub device. calibration: folder of the user's photos (None: bundled
    crops). teacher: model the fidelity is measured against (None: skip it).
    validation_photos: extra held-out photos for the fidelity measurement.
    """

    model: str
    formats: tuple[str, ...]
    out_dir: Path
    size: int = DEFAULT_SIZE
    device: str | None = None
    calibration: Path | None = None
    calibration_count: int = 32
    teacher: str | None = DEFAULT_TEACHER
    validation_photos: tuple[Path, ...] = ()
    quant: QuantRecipe = field(default=DEFAULT_RECIPE)
    unit: Unit = "npu"
    runtime: Runtime = "tflite"
    aihub_inference: bool = True

    def check(self) -> None:
        """UsageError (one line) for anything wrong with the request itself."""
        if not self.formats:
            raise UsageError(f"no format given; choose from {', '.join(FORMATS)}")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise UsageError(
                f"unknown export format {unknown[0]!r}; choose from {', '.join(FORMATS)}"
            )
        if self.size < 16:
            raise UsageError(f"--size {self.size} is too small; use at least 16 pixels")
        if self.calibration_count < 1:
            raise UsageError("calibration needs at least one crop")
        if self.unit not in UNITS or self.runtime not in RUNTIMES:
            raise UsageError(
                f"AI Hub unit must be one of {', '.join(UNITS)} and runtime one of "
                f"{', '.join(RUNTIMES)}"
            )
        if self.calibration is not None and not self.calibration.is_dir():
            raise UsageError(f"{self.calibration}: calibration folder not found")
        for photo in self.validation_photos:
            if not photo.is_file():
                raise UsageError(f"{photo}: validation photo not found")

    def needs_calibration(self) -> bool:
        return bool(INT8_FORMATS & set(self.formats)) or (
            "aihub" in self.formats and self.unit == "npu"
        )
