"""What ``mfagan latency --model`` may name, built as a graph to profile (weights irrelevant).

Latency depends on the graph, not on the weights, so nothing here reads a weights file when
the architecture is known: the teacher is rebuilt from its config on meta tensors (no
conversion, no download) and students from their config with random weights. Accepted: a
registry name or model file, an MFA config string (``b4-c32-g16-h1111-conv-x4``), or a
reference net's AI Hub id (``quicksrnetlarge``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from engine.errors import ModelError
from engine.models.descriptor import ModelDescriptor
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig
from engine.phones.reference_nets import REFERENCE_NETS

# Looks like an MFA config, so a bad one gets MFAConfig's precise error, not "unknown model".
_MFA_SHAPED = re.compile(r"b\d+-c\d+-")


@dataclass(frozen=True, kw_only=True)
class LatencyTarget:
    name: str
    architecture: str
    module: nn.Module
    in_channels: int = 3
    size_multiple: int = 1


def _from_descriptor(descriptor: ModelDescriptor) -> nn.Module:
    config = descriptor.config
    if isinstance(config, RRDBNetConfig):
        with torch.device("meta"):  # 16.7M parameters that profiling never reads
            return RRDBNet(config)
    if isinstance(config, MFAConfig):
        return MFAGenerator(config)
    return descriptor.load()


def latency_target(name: str) -> LatencyTarget:
    """Resolve ``name``; ModelError listing what is accepted when nothing matches."""
    from engine.models.registry import get_model

    try:
        descriptor = get_model(name)
    except ModelError as error:
        unknown = error
    else:
        return LatencyTarget(
            name=descriptor.name,
            architecture=descriptor.architecture,
            module=_from_descriptor(descriptor).eval().float(),
            in_channels=descriptor.in_channels,
            size_multiple=descriptor.size_multiple,
        )
    for net in REFERENCE_NETS:
        if net.key == name:
            with torch.device("meta"):
                return LatencyTarget(name=name, architecture="reference", module=net.build().eval())
    if not _MFA_SHAPED.match(name):
        keys = ", ".join(net.key for net in REFERENCE_NETS)
        raise ModelError(
            f"{unknown}; latency also takes an MFA config (e.g. b4-c32-g16-h1111-conv-x4) "
            f"or a reference net ({keys})"
        )
    config = MFAConfig.decode(name)
    return LatencyTarget(
        name=name,
        architecture="mfa",
        module=MFAGenerator(config).eval(),
        size_multiple=config.size_multiple,
    )
