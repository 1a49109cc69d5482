"""Upscale one image: colour and alpha through the model, any output size, fidelity kept.

The model always runs at its native scale; other sizes (x2, x3, a target width or height)
come from a Lanczos downscale of the model output, which keeps the model's detail. Sizes
beyond one pass run the model again on its own output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from engine.errors import ModelError, UsageError
from engine.events import CancelToken, Event, Finished, Progress, result_of
from engine.imageio import ImageData
from engine.inference.assembly import FloatCanvas, Sink
from engine.inference.backends import Backend, BackendKind, make_backend
from engine.inference.tile_clock import TileClock
from engine.inference.tile_memory import (
    ImageFootprint,
    activation_bytes_per_pixel,
    auto_tile_size,
    fit_requested_tile,
)
from engine.inference.tiling import (
    PlanesSource,
    TileFallback,
    TileOptions,
    recommended_overlap,
    run_tiled_into,
)
from engine.models.descriptor import ModelDescriptor

MAX_PASSES = 2


@dataclass(frozen=True, kw_only=True)
class TargetSize:
    """At most one of ``scale``, ``width`` or ``height``; none given means the model's scale."""

    scale: float | None = None
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.scale, self.width, self.height) if v is not None]
        if len(given) > 1:
            raise UsageError("give only one of --scale, --width or --height")
        if any(v <= 0 for v in given):
            raise UsageError("the output scale, width and height must be positive")

    def resolve(self, width: int, height: int, model_scale: int) -> tuple[int, int]:
        """Output size for an input of ``width`` x ``height``, aspect ratio kept."""
        if self.width is not None:
            return self.width, max(1, round(height * self.width / width))
        if self.height is not None:
            return max(1, round(width * self.height / height)), self.height
        factor = self.scale if self.scale is not None else model_scale
        return max(1, round(width * factor)), max(1, round(height * factor))

    def label(self, model_scale: int) -> str:
        if self.width is not None:
            return f"w{self.width}"
        if self.height is not None:
            return f"h{self.height}"
        factor = self.scale if self.scale is not None else model_scale
        return f"x{factor:g}"


@dataclass(frozen=True, kw_only=True)
class WriteOptions:
    format: str | None = None
    quality: int = 95
    keep_metadata: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.quality <= 100:
            raise UsageError(f"quality must be between 1 and 100, not {self.quality}")


class Upscaler:
    """A loaded model and backend, reused across the images of a job."""

    def __init__(
        self,
        descriptor: ModelDescriptor,
        *,
        backend: BackendKind = "auto",
        tile: int | None = None,
    ) -> None:
        if (
            descriptor.in_channels not in (1, 3)
            or descriptor.out_channels != descriptor.in_channels
        ):
            raise ModelError(
                f"model {descriptor.name}: {descriptor.in_channels}->{descriptor.out_channels}"
                " channel models are not supported (RGB or greyscale models only)"
            )
        if backend in ("auto", "onnx", "openvino") and not descriptor.onnx_exportable:
            backend = "torch"
        self.descriptor = descriptor
        self.backend_kind: BackendKind = backend
        self._backend: Backend | None = None
        self.requested_tile = tile  # None: auto, per image
        self.tile: int | None = tile  # the tile size last used
        self._tile_cap: int | None = None  # a size that ran out of memory is not tried again
        self.clock = TileClock()  # this computer's speed, for progress inside long tiles

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = make_backend(self.descriptor, self.backend_kind)
        return self._backend

    def prepare(self) -> Iterator[Event]:
        """Load the model (exporting ONNX on first use) and profile its memory per pixel."""
        yield Progress(stage="load model", done=0, total=1, message=self.descriptor.name)
        _ = self.backend
        activation_bytes_per_pixel(self.descriptor)
        yield Progress(stage="load model", done=1, total=1, message=self.descriptor.name)

    def run(self, planes: np.ndarray, cancel: CancelToken, stage: str) -> Iterator[Event]:
        """Run the model over an HxWxC float image (C == model channels); Finished(HxWxC)."""
        height, width = planes.shape[:2]
        scale = self.descriptor.scale
        canvas = FloatCanvas(height * scale, width * scale)
        reserved = canvas.height * canvas.width * self.descriptor.out_channels * 4
        yield from self.run_into(planes, cancel, stage, lambda: canvas, reserved_bytes=reserved)
        assert canvas.array is not None
        yield Finished(result=np.clip(canvas.array[0].transpose(1, 2, 0), 0.0, 1.0))

    def run_into(
        self,
        planes: np.ndarray,
        cancel: CancelToken,
        stage: str,
        make_sink: Callable[[], Sink],
        *,
        reserved_bytes: int = 0,
        whole_rows: bool = False,
    ) -> Iterator[Event]:
        """Run the model over an HxWxC float image (any channel count the model can take:
        converted per tile), handing final blocks of raw output to ``make_sink()``'s sink.

        ``reserved_bytes``: memory the caller holds for this image whatever the tile (its
        output), which the tile size must leave free. ``whole_rows``: the sink joins the
        blocks into full-width rows (a resize), which the tile size must count too.
        """
        if self._backend is None:
            yield from self.prepare()
        footprint = ImageFootprint(
            width=planes.shape[1],
            channels=self.descriptor.out_channels,
            overlap=recommended_overlap(self.descriptor),
            reserved_bytes=reserved_bytes + planes.nbytes,
            whole_rows=whole_rows,
        )
        yield from self._settle_tile(footprint)
        source = PlanesSource(planes, self.descriptor.in_channels, self.descriptor.size_multiple)
        options = TileOptions(
            scale=self.descriptor.scale,
            tile=self.tile,
            overlap=footprint.overlap,
            size_multiple=self.descriptor.size_multiple,
            cancel=cancel,
            clock=self.clock,
        )
        for event in run_tiled_into(self.backend, source, make_sink, options):
            if isinstance(event, Progress):
                yield replace(event, stage=stage)
            else:
                if isinstance(event, TileFallback):
                    self.tile = self._tile_cap = event.tile  # the next image would fail too
                yield event

    def _settle_tile(self, footprint: ImageFootprint) -> Iterator[Event]:
        """This image's tile: auto, or the one asked for if memory allows (else reduced)."""
        if self.requested_tile is None:
            choice = auto_tile_size(self.descriptor, footprint=footprint)
            tile, notice = choice.tile, choice.notice
        else:
            tile, notice = fit_requested_tile(
                self.descriptor, self.requested_tile, footprint=footprint
            )
        if self._tile_cap is not None and tile > self._tile_cap:
            tile, notice = self._tile_cap, None
        if notice is not None and tile != self.tile:
            yield notice
        self.tile = tile

    def details(self) -> dict[str, object]:
        # The runtime that ran: auto names its pick ("openvino-bf16 (auto)").
        backend = self._backend.name if self._backend is not None else self.backend_kind
        return {"model": self.descriptor.name, "backend": backend, "tile": self.tile}


def _to_model_channels(planes: np.ndarray, channels: int) -> np.ndarray:
    if planes.shape[2] == channels:
        return planes
    if channels == 3:
        return np.repeat(planes, 3, axis=2)
    return planes.mean(axis=2, keepdims=True)


def _from_model_channels(planes: np.ndarray, channels: int) -> np.ndarray:
    if planes.shape[2] == channels:
        return planes
    if channels == 1:
        # A grey input replicated to RGB comes back (almost) grey: average the drift away.
        return planes.mean(axis=2, keepdims=True)
    return np.repeat(planes, channels, axis=2)


def _lanczos(planes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize each float channel with Pillow's Lanczos filter, no 8-bit rounding."""
    if (planes.shape[1], planes.shape[0]) == size:
        return planes
    channels = [
        np.asarray(Image.fromarray(planes[:, :, c]).resize(size, Image.Resampling.LANCZOS))
        for c in range(planes.shape[2])
    ]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0).astype(np.float32)


def passes_needed(source: tuple[int, int], target: tuple[int, int], model_scale: int) -> int:
    """Model passes so that the model output is at least the target size."""
    ratio = max(target[0] / source[0], target[1] / source[1])
    if model_scale == 1:
        if ratio > 1:
            raise UsageError("this model does not enlarge (1x); choose a 2x-4x model to upscale")
        return 1
    passes = max(1, math.ceil(math.log(max(ratio, 1.0), model_scale) - 1e-9))
    if passes > MAX_PASSES:
        raise UsageError(
            f"output {target[0]}x{target[1]} is more than {model_scale**MAX_PASSES}x the input;"
            " choose a smaller size"
        )
    return passes


def _upscale_planes(
    upscaler: Upscaler, planes: np.ndarray, passes: int, cancel: CancelToken, stage: str
) -> Generator[Event, None, np.ndarray]:
    channels = planes.shape[2]
    work = _to_model_channels(planes, upscaler.descriptor.in_channels)
    for index in range(passes):
        label = stage if passes == 1 else f"{stage} (pass {index + 1}/{passes})"
        work = yield from result_of(upscaler.run(work, cancel, label))
    return _from_model_channels(work, channels)


def upscale_image(
    upscaler: Upscaler, image: ImageData, target: TargetSize, cancel: CancelToken
) -> Iterator[Event]:
    """Upscale colour (and alpha, through the model too); Finished(result=ImageData)."""
    height, width = image.color.shape[:2]
    size = target.resolve(width, height, upscaler.descriptor.scale)
    passes = passes_needed((width, height), size, upscaler.descriptor.scale)
    color = yield from _upscale_planes(upscaler, image.color, passes, cancel, "upscale")
    alpha = None
    if image.alpha is not None:
        alpha = yield from _upscale_alpha(upscaler, image.alpha, passes, color.shape[:2], cancel)
    yield Finished(
        result=replace(
            image,
            color=_lanczos(color, size),
            alpha=None if alpha is None else _lanczos(alpha, size),
        )
    )


def _upscale_alpha(
    upscaler: Upscaler,
    alpha: np.ndarray,
    passes: int,
    out_hw: tuple[int, ...],
    cancel: CancelToken,
) -> Generator[Event, None, np.ndarray]:
    """Alpha goes through the model so its edges stay as sharp as the colour's."""
    lo, hi = float(alpha.min()), float(alpha.max())
    if lo == hi:
        # A constant mask has no edges to sharpen; the model would only add noise.
        return np.full((*out_hw, 1), lo, dtype=np.float32)
    return (yield from _upscale_planes(upscaler, alpha, passes, cancel, "upscale alpha"))


def check_distinct(source: Path, output: Path) -> None:
    """Refuse to write over an input: originals are never modified."""
    same = output.resolve() == source.resolve()
    if not same and output.exists():
        same = output.samefile(source)
    if same:
        raise UsageError(f"{output}: the output path is the input file; choose another")
