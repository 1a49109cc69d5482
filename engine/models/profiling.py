"""Exact cost of one forward pass: parameters, MACs, memory-access cost, peak activations.

Everything is counted at the aten-op level with a ``TorchDispatchMode``, so it works on any
``nn.Module`` (our nets, spandrel's) without per-layer rules: every op the forward really
runs is seen once, after PyTorch's own decompositions.

- MACs: multiply-accumulates of convolutions (``out_elems * in_channels/groups * kh * kw``;
  transposed convs count per input element) and of matrix products (``mm``, ``addmm``,
  ``bmm``, ``baddbmm``). Bias adds, activations, resizes and pooling count 0 MACs, the usual
  convention in SR papers.
- Memory-access cost (ShuffleNetV2's MAC): per op, the bytes of every tensor it reads plus
  every tensor it writes, weights included (counted at each use). Pure view ops (reshape,
  transpose, slicing) move no data and cost 0. Bytes are logical: elements x element size.
- Peak activation: the largest total size of live activation storages during a ``no_grad``
  forward, in eager PyTorch: a storage is live from the op that allocates it until the last
  Python or C++ reference to it is released (so locals a ``forward`` keeps alive count, as
  they do in reality). The input and the output are included; weights are not.

The forward runs on meta tensors by default: the same aten ops with the same shapes, no
arithmetic, so the 23-block teacher profiles in well under a second. Modules that cannot
run on meta (data-dependent control flow, tensors not registered as buffers) fall back to
a real CPU forward on a constant input; both give identical numbers for ordinary nets.
"""

from __future__ import annotations

import itertools
import math
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

aten = torch.ops.aten

ProfileDevice = Literal["auto", "meta", "cpu"]


@dataclass(frozen=True, kw_only=True)
class OpCost:
    """One executed aten op: its MACs and the bytes it moved."""

    op: str
    macs: int
    read_bytes: int
    write_bytes: int
    weight_bytes: int

    @property
    def memory_access_bytes(self) -> int:
        return self.read_bytes + self.write_bytes + self.weight_bytes


@dataclass(frozen=True, kw_only=True)
class CostReport:
    """Cost of one forward pass on an input of ``input_shape`` (NCHW)."""

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    memory_access_bytes: int
    peak_activation_bytes: int
    ops: tuple[OpCost, ...] = ()

    def as_dict(self, *, include_ops: bool = False) -> dict[str, Any]:
        """JSON-ready, keys in a fixed order; ``ops`` is the count unless asked for."""
        data: dict[str, Any] = {
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
            "memory_access_bytes": self.memory_access_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
            "ops": len(self.ops),
        }
        if include_ops:
            data["ops"] = [
                {
                    "op": op.op,
                    "macs": op.macs,
                    "read_bytes": op.read_bytes,
                    "write_bytes": op.write_bytes,
                    "weight_bytes": op.weight_bytes,
                }
                for op in self.ops
            ]
        return data


def profile_model(
    module: nn.Module,
    *,
    height: int,
    width: int,
    in_channels: int = 3,
    device: ProfileDevice = "auto",
) -> CostReport:
    """Profile ``module`` (as it is: call ``.eval()`` first) on a 1 x C x H x W input.

    ``device="auto"`` runs on meta tensors and falls back to a real CPU forward when the
    module cannot run on meta; ``"meta"`` / ``"cpu"`` force one of them.
    """
    if height < 1 or width < 1 or in_channels < 1:
        raise ValueError(f"invalid input size {in_channels}x{height}x{width}")
    shape = (1, in_channels, height, width)
    if device == "cpu":
        return _profile_on(module, shape, "cpu")
    try:
        return _profile_on(module, shape, "meta")
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        if device == "meta":
            raise
        return _profile_on(module, shape, "cpu")


def _profile_on(module: nn.Module, shape: tuple[int, ...], device: str) -> CostReport:
    tensors = _module_tensors(module, device)
    dtype = next((t.dtype for t in tensors.values() if t.is_floating_point()), torch.float32)
    x = torch.zeros(shape, dtype=dtype, device=device)
    weight_keys = {_storage_key(t) for t in tensors.values()}
    mode = _CostMode(weight_keys=weight_keys, pinned=x)
    with torch.no_grad(), mode:
        out = torch.func.functional_call(module, tensors, (x,))
    outputs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
    ops = tuple(mode.ops)
    return CostReport(
        input_shape=shape,
        output_shape=tuple(outputs[0].shape) if outputs else (),
        params=sum(p.numel() for p in module.parameters()),
        macs=sum(op.macs for op in ops),
        memory_access_bytes=sum(op.memory_access_bytes for op in ops),
        peak_activation_bytes=mode.peak,
        ops=ops,
    )


def _module_tensors(module: nn.Module, device: str) -> dict[str, torch.Tensor]:
    """Parameters and buffers by name, as meta stand-ins when profiling on meta.

    Tied weights map to one stand-in, so they keep sharing a storage as in the real module.
    """
    named = itertools.chain(
        module.named_parameters(remove_duplicate=False),
        module.named_buffers(remove_duplicate=False),
    )
    stand_ins: dict[int, torch.Tensor] = {}
    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in named:
        if id(tensor) not in stand_ins:
            stand_ins[id(tensor)] = (
                torch.empty_like(tensor, device="meta") if device == "meta" else tensor
            )
        tensors[name] = stand_ins[id(tensor)]
    return tensors


def _storage_key(tensor: torch.Tensor) -> int:
    # The StorageImpl's address: views share it; it cannot be reused while a tensor lives.
    return tensor.untyped_storage()._cdata


def _nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def _tensors(tree: Any) -> Iterator[torch.Tensor]:
    return (leaf for leaf in tree_flatten(tree)[0] if isinstance(leaf, torch.Tensor))


class _CostMode(TorchDispatchMode):
    """Records an OpCost per aten op and tracks live activation storages."""

    def __init__(self, *, weight_keys: set[int], pinned: torch.Tensor) -> None:
        super().__init__()
        self.weight_keys = weight_keys
        self.ops: list[OpCost] = []
        # Per storage: its size and how many tracked tensor objects still refer to it.
        self._sizes: dict[int, int] = {_storage_key(pinned): pinned.untyped_storage().nbytes()}
        self._refs: dict[int, int] = {_storage_key(pinned): 1}  # the caller holds the input
        self.current = self.peak = pinned.untyped_storage().nbytes()

    def __torch_dispatch__(
        self,
        func: torch._ops.OpOverload,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = list(_tensors((args, kwargs)))
        outputs = list(_tensors(out))
        self.ops.append(self._cost(func, args, inputs, outputs))
        input_keys = {_storage_key(t) for t in inputs}
        for tensor in outputs:
            self._track(tensor, input_keys)
        return out

    def _cost(
        self,
        func: torch._ops.OpOverload,
        args: tuple[Any, ...],
        inputs: list[torch.Tensor],
        outputs: list[torch.Tensor],
    ) -> OpCost:
        name = str(func)
        if _moves_no_data(func, inputs, outputs):
            return OpCost(op=name, macs=0, read_bytes=0, write_bytes=0, weight_bytes=0)
        read = inputs[1:] if func is aten.copy_.default else inputs  # copy_ overwrites dst
        weights = [t for t in read if _storage_key(t) in self.weight_keys]
        activations = [t for t in read if _storage_key(t) not in self.weight_keys]
        written = 0 if func in _ALLOCATE_ONLY else sum(_nbytes(t) for t in outputs)
        macs_of = _MACS.get(func)
        return OpCost(
            op=name,
            macs=macs_of(args, outputs) if macs_of else 0,
            read_bytes=sum(_nbytes(t) for t in activations),
            write_bytes=written,
            weight_bytes=sum(_nbytes(t) for t in weights),
        )

    def _track(self, tensor: torch.Tensor, input_keys: set[int]) -> None:
        key = _storage_key(tensor)
        if key in self.weight_keys:
            return
        if key not in self._refs:
            if key in input_keys:
                return  # a view of a tensor made outside the forward: not an activation
            self._refs[key] = 0
            self._sizes[key] = tensor.untyped_storage().nbytes()
            self.current += self._sizes[key]
            self.peak = max(self.peak, self.current)
        self._refs[key] += 1
        release = weakref.finalize(tensor, self._release, key)
        release.atexit = False

    def _release(self, key: int) -> None:
        self._refs[key] -= 1
        if self._refs[key] == 0:
            del self._refs[key]
            self.current -= self._sizes.pop(key)


def _moves_no_data(
    func: torch._ops.OpOverload, inputs: list[torch.Tensor], outputs: list[torch.Tensor]
) -> bool:
    """View and alias ops (view, t, slicing, _unsafe_view, detach): metadata only."""
    if func.is_view:
        return True
    mutates = any(
        a.alias_info is not None and a.alias_info.is_write for a in func._schema.arguments
    )
    if mutates or not outputs:
        return False
    input_keys = {_storage_key(t) for t in inputs}
    return all(_storage_key(t) in input_keys for t in outputs)


def _conv_macs(args: tuple[Any, ...], outputs: list[torch.Tensor]) -> int:
    x, weight, transposed = args[0], args[1], args[6]
    per_element = math.prod(weight.shape[1:])  # in_channels/groups * kh * kw (or out/groups)
    return (x.numel() if transposed else outputs[0].numel()) * per_element


def _mm_macs(args: tuple[Any, ...], outputs: list[torch.Tensor]) -> int:
    return outputs[0].numel() * args[0].shape[-1]  # mm(a, b), bmm(a, b): a's inner dim


def _addmm_macs(args: tuple[Any, ...], outputs: list[torch.Tensor]) -> int:
    return _mm_macs(args[1:], outputs)  # addmm(bias, a, b), baddbmm(bias, a, b)


_MACS: dict[torch._ops.OpOverload, Callable[[tuple[Any, ...], list[torch.Tensor]], int]] = {
    aten.convolution.default: _conv_macs,
    aten._convolution.default: _conv_macs,
    aten.mm.default: _mm_macs,
    aten.addmm.default: _addmm_macs,
    aten.bmm.default: _mm_macs,
    aten.baddbmm.default: _addmm_macs,
}

_ALLOCATE_ONLY = {
    aten.empty.memory_format,
    aten.empty_like.default,
    aten.empty_strided.default,
    aten.new_empty.default,
    aten.new_empty_strided.default,
}
