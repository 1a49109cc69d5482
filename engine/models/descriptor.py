"""The typed descriptor every caller receives instead of a bare ``nn.Module``."""

from __future__ import annotations

import dataclasses
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

    def config_text(self) -> str:
        """The architecture's settings in one line, for people who want the details."""
        config = self.config
        if config is None:
            return self.architecture
        encode = getattr(config, "encode", None)
        if callable(encode):
            return f"{self.architecture} {encode()}"
        if dataclasses.is_dataclass(config):
            fields = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(config).items())
            return f"{self.architecture} ({fields})"
        return f"{self.architecture} ({config})"

    def details(self) -> str:
        """Name, architecture and config, scale: the tooltip of a model's friendly title."""
        return f"{self.name} · {self.config_text()} · ×{self.scale}"
