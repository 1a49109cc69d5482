"""A weight-sharing supernet over the MFA search space (once-for-all slicing).

The supernet holds the weights of the space's largest MFA generator, under the same names
(``head``, ``body.{i}.full1`` ..., ``trunk``, ``tail``). A subnet uses the first
``num_blocks`` blocks and the leading slices ``weight[:out, :in]`` of every conv: its width
``C`` slices the residual stream, its inner width ``g`` the four inner maps of each block, and
its half-resolution flags say which blocks run their half path. ``set_active(cfg)`` picks
the subnet that ``forward`` runs; ``extract(cfg)`` copies those slices into a plain
``MFAGenerator`` (the only thing ever exported), whose output equals the active supernet's.

``sort_channels_by_importance`` permutes channels so that the leading slices carry the
most weight (L1 norm), which is what makes narrow subnets good; the permutation goes
consistently through every layer, so the largest subnet computes the same function.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn

from engine.errors import ModelError, UsageError
from engine.files import atomic_write_bytes
from engine.models.mfa import MFABlock, MFAConfig, MFAGenerator
from engine.models.mfa_growth import INNER_GROUPS, STREAM_READERS, STREAM_WRITERS, copy_into
from engine.nas.space import DEFAULT_SPACE, SearchSpace
from engine.paths import RESOURCES

ARCHITECTURE = "mfa-supernet"
SHIPPED_SUPERNET = RESOURCES / "models" / "mfagan-supernet.safetensors"


def _sliced(conv: nn.Conv2d, out: int, cin: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    bias = conv.bias[:out] if conv.bias is not None else None
    return conv.weight[:out, :cin], bias


def _run(conv: nn.Conv2d, x: torch.Tensor, out: int, *, stride: int = 1) -> torch.Tensor:
    weight, bias = _sliced(conv, out, x.shape[1])
    return F.conv2d(x, weight, bias, stride=stride, padding=conv.padding)


def _block(
    block: MFABlock, x: torch.Tensor, inner: int, half: bool, downsample: str
) -> torch.Tensor:
    """``MFABlock.forward`` on the leading slices (same ops in the same order)."""
    width = x.shape[1]
    f1 = F.relu(_run(block.full1, x, inner))
    fused = _run(block.fuse_full1, f1, width)
    fused.add_(_run(block.fuse_full2, F.relu(_run(block.full2, f1, inner)), width))
    if half:
        stride = 1 if downsample == "avgpool" else 2
        h = F.avg_pool2d(x, 2) if downsample == "avgpool" else x
        h = F.relu(_run(block.half2, F.relu(_run(block.half1, h, inner, stride=stride)), inner))
        fused.add_(F.interpolate(_run(block.fuse_half, h, width), scale_factor=2, mode="nearest"))
    return torch.add(x, fused, alpha=0.2)


class Supernet(nn.Module):
    """The largest generator's weights plus an active subnet; ``forward`` runs the active one."""

    def __init__(self, space: SearchSpace = DEFAULT_SPACE, *, seed: int = 0) -> None:
        super().__init__()
        self.space = space
        largest = MFAGenerator(space.largest(), seed=seed)
        self.head, self.body, self.trunk, self.tail = (
            largest.head,
            largest.body,
            largest.trunk,
            largest.tail,
        )
        self.active = space.largest()

    # ---- the contract --------------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> MFAConfig:
        return self.space.sample(rng)

    def set_active(self, config: MFAConfig) -> None:
        self.space.check(config)
        self.active = config

    def extract(self, config: MFAConfig | None = None) -> MFAGenerator:
        """A plain MFA generator holding copies of ``config``'s slices (default: active)."""
        config = config or self.active
        self.space.check(config)
        net = MFAGenerator(config)
        weights = self.state_dict()
        state = {
            name: weights[name][tuple(slice(0, n) for n in value.shape)].clone()
            for name, value in net.state_dict().items()
        }
        net.load_state_dict(state)
        return net.to(self.head.weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        config = self.active
        feat = _run(self.head, x, config.width)
        body = feat
        for block, half in zip(self.body, config.half_res, strict=False):
            body = _block(block, body, config.inner_width, half, config.downsample)
        feat = _run(self.tail, feat + _run(self.trunk, body, config.width), self.tail.out_channels)
        out = F.pixel_shuffle(feat, config.scale)
        del feat
        return out.add_(F.interpolate(x, scale_factor=config.scale, mode="nearest"))

    # ---- warm start and importance sorting -----------------------------------------------

    @torch.no_grad()
    def warm_start(self, generator: MFAGenerator) -> list[str]:
        """Copy a trained generator into the leading slices; returns the names it filled.

        Weights that read stream or inner channels the generator does not have are zeroed,
        so every subnet of its depth and blocks starts as exactly that generator
        (``engine.models.mfa_growth``). Blocks past its depth keep their init.
        """
        return copy_into(generator, self)

    @torch.no_grad()
    def sort_channels_by_importance(self) -> None:
        """Order stream and inner channels by the L1 norm of the weights touching them."""
        stream = self._stream_convs()
        score = sum(_out_l1(c) for c in stream["writers"]) + sum(
            _in_l1(c) for c in stream["readers"]
        )
        order = torch.argsort(score, descending=True, stable=True)
        for conv in stream["writers"]:
            _permute_out(conv, order)
        for conv in stream["readers"]:
            _permute_in(conv, order)
        for block in self.body:
            for writer_name, reader_names in INNER_GROUPS:
                writer = getattr(block, writer_name)
                readers = [getattr(block, n) for n in reader_names]
                score = _out_l1(writer) + sum(_in_l1(r) for r in readers)
                order = torch.argsort(score, descending=True, stable=True)
                _permute_out(writer, order)
                for reader in readers:
                    _permute_in(reader, order)

    def _stream_convs(self) -> dict[str, list[nn.Conv2d]]:
        writers, readers = [self.head, self.trunk], [self.trunk, self.tail]
        for block in self.body:
            writers += [getattr(block, n) for n in STREAM_WRITERS]
            readers += [getattr(block, n) for n in STREAM_READERS]
        return {"writers": writers, "readers": readers}


def _out_l1(conv: nn.Conv2d) -> torch.Tensor:
    return conv.weight.abs().sum(dim=(1, 2, 3))


def _in_l1(conv: nn.Conv2d) -> torch.Tensor:
    return conv.weight.abs().sum(dim=(0, 2, 3))


def _permute_out(conv: nn.Conv2d, order: torch.Tensor) -> None:
    conv.weight.copy_(conv.weight[order])
    if conv.bias is not None:
        conv.bias.copy_(conv.bias[order])


def _permute_in(conv: nn.Conv2d, order: torch.Tensor) -> None:
    conv.weight.copy_(conv.weight[:, order])


def save_supernet(path: Path, supernet: Supernet, *, half: bool = False) -> None:
    """Weights (fp16 when ``half``) and the space, as safetensors; written atomically."""
    dtype = torch.float16 if half else torch.float32
    tensors = {
        k: v.detach().to("cpu", dtype).contiguous() for k, v in supernet.state_dict().items()
    }
    metadata = {"architecture": ARCHITECTURE, "space": json.dumps(supernet.space.as_dict())}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, save(tensors, metadata=metadata))


def load_supernet(path: Path | None = None) -> Supernet:
    """A supernet file (default: the shipped one), in float32; ModelError if it is not one."""
    path = path or SHIPPED_SUPERNET
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {k: handle.get_tensor(k).float() for k in handle.keys()}  # noqa: SIM118
    except (OSError, SafetensorError) as error:
        raise ModelError(f"{path}: cannot read the supernet ({error})") from None
    if metadata.get("architecture") != ARCHITECTURE:
        raise ModelError(
            f"{path}: not an MFA supernet (architecture {metadata.get('architecture')!r})"
        )
    try:
        space = SearchSpace.from_dict(json.loads(metadata["space"]))
    except (KeyError, ValueError, UsageError) as error:
        raise ModelError(f"{path}: bad search space in the supernet file ({error})") from None
    supernet = Supernet(space)
    try:
        supernet.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise ModelError(
            f"{path}: supernet weights do not load: {str(error).splitlines()[0]}"
        ) from None
    return supernet
