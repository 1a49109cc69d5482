"""The typed descriptor every caller receives instead of a bare ``nn.Module``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True, kw_only=True)
class ModelDescriptor:
    """What a model is, what it accepts, and how to build it with its weights loaded.

    ``load()`` returns the network in eval mode on the CPU, weights loaded without executing
    code. ``weights_id`` identifies the weights (a checksum) so derived artefacts such as ONNX
    exports can be cached per model. ``size_multiple``: input height and width must be a
    multiple of it (the pipeline pads and crops).
    """

    name: str
    title: str
    architecture: str
    scale: int
    in_channels: int
    out_channels: int
    size_multiple: int
    config: object
    trained: bool
    load: Callable[[], nn.Module]
    weights_id: Callable[[], str]
    description: str = ""
    onnx_exportable: bool = True
