"""Where the engine keeps caches and user data (platformdirs; overridable for tests)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "mfagan-studio"
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def cache_dir() -> Path:
    """Converted teacher weights, ONNX exports: safe to delete, rebuilt on demand."""
    override = os.environ.get("MFAGAN_CACHE_DIR")
    path = Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """User models and trained checkpoints: kept across upgrades."""
    override = os.environ.get("MFAGAN_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path
