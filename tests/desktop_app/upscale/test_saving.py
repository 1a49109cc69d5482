"""The line under the images and the tile notice say what ran in plain words; the runtime's
exact name and the tile size are kept for a tooltip."""

from __future__ import annotations

from pathlib import Path

from desktop_app.jobs import UpscaleOutcome
from desktop_app.upscale.saving import describe, technical_details
from desktop_app.upscale.work_queue import notice_in_words
from engine.events import Notice, TileChoice


def _outcome(model: str, backend: str, tile: int) -> UpscaleOutcome:
    return UpscaleOutcome(
        source=Path("photo.png"),
        staged=Path("photo.raw"),
        preview=None,  # type: ignore[arg-type]
        model_name=model,
        scale_label="x4",
        details={
            "model": model,
            "backend": backend,
            "tile": tile,
            "input_size": [64, 48],
            "output_size": [256, 192],
            "seconds": 1.25,
        },
    )


def test_the_runtime_is_said_plainly_and_named_exactly_in_the_tooltip() -> None:
    outcome = _outcome("mfagan-fast", "openvino-fp32 (auto)", 512)
    line = describe(outcome)
    assert "ran on OpenVINO (fast CPU runtime)" in line and "64×48" in line
    assert "openvino-fp32" not in line and "tile" not in line and "(auto)" not in line
    tip = technical_details(outcome)
    assert "openvino-fp32 (auto)" in tip and "512 px" in tip


def test_bicubic_names_no_runtime() -> None:
    line = describe(_outcome("bicubic", "onnx (auto)", 0))
    assert "ran on" not in line and "onnx" not in line.lower() and "256×192" in line


def test_the_tile_notice_is_said_plainly() -> None:
    said = notice_in_words(TileChoice(tile=384, budget_bytes=2**31, reserved_bytes=2**30))
    assert said == "upscaling piece by piece (384 px squares) so the photo fits in memory"
    assert notice_in_words(Notice(message="something else")) == "something else"
    # Worded from the event's type and fields, not from how its line reads.
    line = "tile size auto: 512 (budget 2.1 GiB)"
    assert notice_in_words(Notice(message=line)) == line
