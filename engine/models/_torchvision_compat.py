"""Make ``import spandrel`` work beside a torchvision whose compiled ops cannot load.

Why: spandrel imports torchvision (two of its architectures use torchvision transforms).
The torchvision wheel PyPI resolves next to our pinned CPU torch is a CUDA build whose
C extension does not load here, so its ops are never registered, and torchvision's
``_meta_registrations`` then fails at import with "operator torchvision::nms does not exist"
(it registers fake kernels for ``nms``/``qnms`` without checking the ops exist; every other
op it guards). That one import error would make every user model unloadable.

Fix: try the import first, so a healthy torchvision is never touched. Only when it fails
with exactly that error, declare the two op schemas it expects (schemas only, no kernels:
calling ``nms`` still fails loudly, which is right, since no upscaling model needs it),
drop the half-imported torchvision modules and import again.
"""

from __future__ import annotations

import importlib
import sys

import torch

_MISSING_OP = "torchvision::nms does not exist"
_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
# Kept alive on purpose: a torch.library.Library removes its definitions when collected.
_library: torch.library.Library | None = None


def ensure_torchvision_importable() -> None:
    """Import torchvision, defining its two missing op schemas first if that is needed."""
    global _library
    try:
        importlib.import_module("torchvision")
        return
    except ModuleNotFoundError:
        return  # not installed: spandrel's own import reports that, if it matters
    except RuntimeError as error:
        if _MISSING_OP not in str(error) or _library is not None:
            raise
    _library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS:
        _library.define(schema)
    for name in [name for name in sys.modules if name.partition(".")[0] == "torchvision"]:
        del sys.modules[name]
    importlib.import_module("torchvision")
