"""Where the engine keeps caches and user data (platformdirs; overridable for tests)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

from engine.errors import StorageError

APP_NAME = "mfagan-studio"
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def cache_dir() -> Path:
    """Converted teacher weights, ONNX exports: safe to delete, rebuilt on demand."""
    return _folder("cache", "MFAGAN_CACHE_DIR", "XDG_CACHE_HOME", platformdirs.user_cache_dir)


def data_dir() -> Path:
    """User models and trained checkpoints: kept across upgrades."""
    return _folder("data", "MFAGAN_DATA_DIR", "XDG_DATA_HOME", platformdirs.user_data_dir)


def _folder(kind: str, variable: str, xdg: str, default: Callable[[str], str]) -> Path:
    """The folder, created if needed; StorageError naming it, the reason and the variable
    that sets it when it cannot be (a file in the way, a read-only file system)."""
    override = os.environ.get(variable)
    path = Path(override) if override else Path(default(APP_NAME))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if override:
            where = f"{variable} sets it"
        elif os.environ.get(xdg):
            where = f"{xdg} sets it; {variable} overrides it"
        else:
            where = f"{variable} moves it"
        raise StorageError(
            path, f"cannot be the {kind} folder ({why_unusable(path, exc)}; {where})"
        ) from None
    return path


def why_unusable(path: Path, exc: OSError) -> str:
    """Why the folder ``path`` could not be made or written, after ``exc``: a file in the
    way ("it is a file, not a folder", "<folder> is a file") or the error's reason."""
    for folder in (path, *path.parents):  # a file where a folder of the path should be
        if os.path.lexists(folder) and not os.path.isdir(folder):
            return "it is a file, not a folder" if folder == path else f"{folder} is a file"
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]
