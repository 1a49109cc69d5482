"""Where a result is saved: the output folder (or next to the original) and the name pattern."""

from __future__ import annotations

import html
from pathlib import Path

import platformdirs

from desktop_app.jobs import UpscaleOutcome
from desktop_app.settings import UpscaleSettings
from desktop_app.wording import NO_AI_MODELS
from engine.inference.batch import output_name
from engine.paths import data_dir


def pasted_dir() -> Path:
    """Clipboard images are written here so they can be queued like files."""
    return data_dir() / "pasted"


def output_folder(source: Path, settings: UpscaleSettings) -> Path:
    if settings.output_dir:
        return Path(settings.output_dir)
    if source.parent == pasted_dir():
        # "Next to the original" would bury a pasted image's result in the app's data folder.
        return Path(platformdirs.user_pictures_dir())
    return source.parent


def planned_output(outcome: UpscaleOutcome, settings: UpscaleSettings) -> Path:
    """The file Save writes before any "-2" is added to avoid an existing file."""
    name = output_name(
        outcome.source,
        pattern=settings.name_pattern,
        model=outcome.model_name,
        scale_label=outcome.scale_label,
        format=settings.format or None,
    )
    return output_folder(outcome.source, settings) / name


# Models that are plain arithmetic, no AI: which runtime ran them is not worth a word.
NO_RUNTIME_WORTH_NAMING = NO_AI_MODELS


def runtime_in_words(backend: str) -> str:
    """ "openvino-fp32 (auto)" -> "OpenVINO (fast CPU runtime)"; "" when unknown."""
    name = backend.removesuffix(" (auto)")
    if name.startswith("openvino-gpu"):
        return "OpenVINO on the graphics chip"
    if name.startswith("openvino"):
        return "OpenVINO (fast CPU runtime)"
    return {"onnx": "ONNX Runtime (CPU runtime)", "torch": "PyTorch"}.get(name, "")


def describe(outcome: UpscaleOutcome) -> str:
    """The line under the images: what ran (the model as the model menu names it), how long
    it took, what came out, in plain words (the model's id, the runtime's exact name and the
    tile size are in ``technical_details``)."""
    d = outcome.details
    width, height = d.get("output_size", ("?", "?"))
    in_w, in_h = d.get("input_size", ("?", "?"))
    model = html.escape(outcome.model_title or outcome.model_name)
    line = f"<b>{model}</b> · {d.get('seconds', 0):.1f} s · {in_w}×{in_h} → <b>{width}×{height}</b>"
    runtime = runtime_in_words(str(d.get("backend", "")))
    if runtime and outcome.model_name not in NO_RUNTIME_WORTH_NAMING:
        line += f" · ran on {runtime}"
    return line


def technical_details(outcome: UpscaleOutcome) -> str:
    """The tooltip of that line: the model's id (file names and the command line use it),
    the runtime as named by the engine and the tile size."""
    d = outcome.details
    # Auto names the runtime it picked ("openvino-bf16 (auto)"): shown as it is.
    tile = d.get("tile")
    return (
        f"Model: {d.get('model', outcome.model_name)}\n"
        f"Runtime: {d.get('backend') or '?'}\n"
        f"Tile size: {f'{tile} px' if tile else 'whole image at once'}"
    )
