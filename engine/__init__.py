"""MFAGAN Studio engine: super-resolution models and jobs, with no GUI dependency."""

import os

__version__ = "0.1.0"

# onnxruntime (1.32 on Linux) writes a device id and a telemetry store under the user's cache
# folder at import, and warns when that folder cannot be written; a photo app has no business
# doing either. Set before any engine module imports it; a user's own setting wins.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
