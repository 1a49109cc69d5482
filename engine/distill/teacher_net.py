"""The teacher as an RRDBNet module (for its RRDB outputs), plus an id of its exact weights.

Feature distillation hooks ``body.{i}`` of our ``RRDBNet``, so the teacher must be that class
whatever its source: a registry name (the real Real-ESRGAN teacher) or an RRDBNet state dict
file (BasicSR names; tests use a tiny one). Its hyper-parameters are read off the shapes.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from engine.errors import ModelError
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

_BODY_KEY = re.compile(r"body\.(\d+)\.")


def rrdbnet_config_from_state(state: dict[str, torch.Tensor]) -> RRDBNetConfig:
    """Infer num_block, num_feat, num_grow_ch and channels of an x4 RRDBNet state dict."""
    try:
        first, grow = state["conv_first.weight"], state["body.0.rdb1.conv1.weight"]
        last = state["conv_last.weight"]
    except KeyError as missing:
        raise ModelError(f"not an RRDBNet state dict (no {missing})") from None
    blocks = {int(m.group(1)) for key in state if (m := _BODY_KEY.match(key))}
    return RRDBNetConfig(
        num_block=len(blocks),
        num_feat=first.shape[0],
        num_grow_ch=grow.shape[0],
        in_channels=first.shape[1],
        out_channels=last.shape[0],
    )


def rrdbnet_from_state(state: dict[str, torch.Tensor]) -> RRDBNet:
    net = RRDBNet(rrdbnet_config_from_state(state))
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ModelError(f"RRDBNet weights do not load: {str(error).splitlines()[0]}") from None
    return net


def weights_digest(module: nn.Module) -> str:
    """sha256 over names, shapes and bytes of the state dict: identifies the exact weights."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        value = tensor.detach().to("cpu", torch.float32).contiguous()
        digest.update(f"{name}:{tuple(value.shape)};".encode())
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()


def load_teacher(spec: str) -> RRDBNet:
    """The teacher in eval mode with frozen weights, from a registry name or a weights file."""
    path = Path(spec)
    if path.suffix.lower() == ".safetensors" and path.is_file():
        try:
            net = rrdbnet_from_state(load_file(str(path)))
        except (OSError, SafetensorError) as error:
            raise ModelError(f"{path}: cannot read the teacher weights ({error})") from None
    else:
        from engine.models.registry import get_model

        module = get_model(spec).load()
        net = module if isinstance(module, RRDBNet) else rrdbnet_from_state(module.state_dict())
    if net.config.scale != 4:
        raise ModelError(f"the teacher {spec!r} must be an x4 RRDBNet")
    net.eval()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    return net
