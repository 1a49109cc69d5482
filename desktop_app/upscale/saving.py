"""Where a result is saved: the output folder (or next to the original) and the name pattern."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from desktop_app.jobs import UpscaleOutcome
from desktop_app.settings import UpscaleSettings
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


def describe(outcome: UpscaleOutcome) -> str:
    """The line under the images: what actually ran, how long it took, what came out."""
    d = outcome.details
    width, height = d.get("output_size", ("?", "?"))
    in_w, in_h = d.get("input_size", ("?", "?"))
    tile = d.get("tile")
    # Auto names the runtime it picked ("openvino-bf16 (auto)"): shown as it is.
    backend = {"onnx": "ONNX Runtime", "torch": "PyTorch"}.get(d.get("backend", ""))
    backend = backend or d.get("backend") or "?"
    return (
        f"<b>{d.get('model', outcome.model_name)}</b> · {backend} · tile "
        f"{tile if tile else 'whole image'} px · {d.get('seconds', 0):.1f} s · "
        f"{in_w}×{in_h} → <b>{width}×{height}</b>"
    )
