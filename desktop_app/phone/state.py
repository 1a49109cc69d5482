"""What the wizard remembers between sessions: a small JSON file under the app's data dir.

The state names choices (phone, goal, picked subnet, model name) and the folders that hold
the long jobs' results (search outputs, the fine-tuning run with its checkpoint, the bundle).
Each result is written by its job atomically, so a state that names one is always whole.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.files import atomic_write_bytes
from engine.paths import data_dir

STATE_NAME = "wizard.json"
STEPS = ("Phone", "Goal", "Search", "Fine-tune", "Compare", "Export")


def wizard_dir() -> Path:
    path = data_dir() / "phone-wizard"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True, kw_only=True)
class WizardState:
    step: int = 0
    device: str = "snapdragon-865"
    unit: str = "gpu"
    precision: str | None = None
    goal: str = "photo"  # "photo" | "video"
    megapixels: float = 12.0
    seconds: float = 60.0
    video_width: int = 640
    video_height: int = 360
    fps: float = 1.0
    tile: int = 128
    budget_ms: float | None = None
    search_dir: str = ""  # folder with search.json (written when a search finished)
    chosen: str = ""  # the picked config, encoded
    finetune_steps: int = 200
    photos: str = ""  # a folder of the user's own photos, "" for none
    finetune_dir: str = ""  # the run folder (checkpoint inside: resumable)
    model_name: str = ""  # the registered model, once fine-tuning finished
    compare_photo: str = ""
    bundle_dir: str = ""
    adb: str = ""  # the adb program, "" for the one on PATH
    setup_s: float | None = None  # measured here: fine-tuning start-up, seconds
    step_s: float | None = None  # measured here: seconds a fine-tuning step
    compare_s: float | None = None  # measured here: seconds the last compare took

    def with_(self, **changes: Any) -> WizardState:
        return dataclasses.replace(self, **changes)


def load_state(folder: Path | None = None) -> WizardState:
    """The saved state; a missing, damaged or older file gives the defaults for what it lacks."""
    path = (folder or wizard_dir()) / STATE_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return WizardState()
    if not isinstance(raw, dict):
        return WizardState()
    known = {f.name: f for f in dataclasses.fields(WizardState)}
    fields = {k: v for k, v in raw.items() if k in known}
    try:
        state = WizardState(**fields)
    except TypeError:
        return WizardState()
    return state.with_(step=min(max(int(state.step), 0), len(STEPS) - 1))


def save_state(state: WizardState, folder: Path | None = None) -> None:
    path = (folder or wizard_dir()) / STATE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(dataclasses.asdict(state), indent=2).encode("utf-8")
    atomic_write_bytes(path, data)
