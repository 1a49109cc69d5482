"""A trained MFA student copied into a wider or deeper one that starts as the same function.

A wider student trained from scratch would have to relearn everything the trained one knows
before it can use its extra channels; started this way, it begins where the trained one ended
and its training only has to find a use for the new channels. The supernet's warm start
(``engine.nas.supernet``) copies a student into its leading slices the same way.

Every conv of the trained net lands in the leading slices ``weight[:out, :in]`` of the same
conv in the wider one. The new channels keep their random init where they are *written*
and are zeroed where they are *read*, so at the start they are computed but ignored: the
output is unchanged, and their readers still get a gradient (a reader's gradient is its
input, which is not zero), so they are used as soon as that helps. Zeroing both sides would
leave the new channels without any gradient for good. Blocks past the trained net's depth
are appended after its last block with their fuse convs zeroed: a block adds its fused
branches to its input, so it starts as the identity, and the fuse convs' gradient (their
input) is not zero, so the block starts to add something as soon as that helps.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from engine.models.mfa import MFAConfig, MFAGenerator

# Convs reading the residual stream (in-channel slice C) and writing it (out-channel slice C).
STREAM_READERS = ("full1", "half1")
STREAM_WRITERS = ("fuse_full1", "fuse_full2", "fuse_half")
# Each inner group of a block: the conv writing it, the convs reading it.
INNER_GROUPS = (
    ("full1", ("full2", "fuse_full1")),
    ("full2", ("fuse_full2",)),
    ("half1", ("half2",)),
    ("half2", ("fuse_half",)),
)


def can_grow(source: MFAConfig, target: MFAConfig) -> bool:
    """True when ``target`` is ``source`` with a wider stream, wider inner maps and/or more
    blocks after its own (their half-resolution switches are free)."""
    depth = source.num_blocks
    if target.num_blocks < depth or target.half_res[:depth] != source.half_res:
        return False
    same_shape = dataclasses.replace(
        target,
        num_blocks=depth,
        half_res=source.half_res,
        width=source.width,
        inner_width=source.inner_width,
    )
    return (
        same_shape == source
        and target.width >= source.width
        and target.inner_width >= source.inner_width
    )


@torch.no_grad()
def copy_into(source: MFAGenerator, target: nn.Module) -> list[str]:
    """Copy ``source`` into the leading slices of ``target``; returns the names it filled.

    ``target`` has the MFA generator's parameter names (an ``MFAGenerator`` or the
    supernet) and is at least as wide and as deep. Blocks past the source's depth keep
    their init.
    """
    own = dict(target.named_parameters())
    filled = []
    for name, value in source.state_dict().items():
        slot = own.get(name)
        if slot is None or any(v > t for v, t in zip(value.shape, slot.shape, strict=True)):
            continue
        slot[tuple(slice(0, n) for n in value.shape)] = value
        filled.append(name)
    width, inner = source.config.width, source.config.inner_width
    blocks = [target.body[i] for i in range(source.config.num_blocks)]
    # A block without a half path has no half1/half2/fuse_half.
    stream = [getattr(block, name, None) for block in blocks for name in STREAM_READERS]
    for conv in [target.trunk, target.tail, *filter(None, stream)]:
        conv.weight[:, width:] = 0
    inner_readers = [
        getattr(block, name, None)
        for block in blocks
        for _writer, readers in INNER_GROUPS
        for name in readers
    ]
    for conv in filter(None, inner_readers):
        conv.weight[:, inner:] = 0
    return filled


def grown(source: MFAGenerator, config: MFAConfig, *, seed: int = 0) -> MFAGenerator:
    """A ``config`` generator (``can_grow(source.config, config)``) computing ``source``'s
    function; ``seed`` draws the new channels' init."""
    if not can_grow(source.config, config):
        raise ValueError(f"{config.encode()} cannot start from {source.config.encode()}")
    target = MFAGenerator(config, seed=seed)
    copy_into(source, target)
    # Only here, not in copy_into: the supernet's warm start keeps its deeper blocks' init.
    with torch.no_grad():
        for block in list(target.body)[source.config.num_blocks :]:
            for name in STREAM_WRITERS:
                conv = getattr(block, name, None)
                if conv is not None:
                    conv.weight.zero_()
                    if conv.bias is not None:
                        conv.bias.zero_()
    return target
