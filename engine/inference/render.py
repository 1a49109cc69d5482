"""Upscale an image straight into the 8/16-bit pixels of its output format.

The float path (``upscale.upscale_image``) keeps the whole result as float32: 2.1 GiB for a
12-megapixel photo at x4, plus copies. Here each final block of model output is clipped,
resized when the size is not the model's, and rounded into a ``Raster`` laid out for the
output format as soon as no later tile touches it, with the same arithmetic as the float
path followed by the writer (bit-identical at the model's scale; resized sizes may differ by
a rounding step where Pillow's box coefficients differ in the last bit).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import numpy as np

from engine.events import CancelToken, Event, Finished, result_of
from engine.imageio import ImageData, format_for_suffix
from engine.imageio.formats import FORMATS
from engine.imageio.raster import PixelLayout, Raster, layout_for
from engine.inference.assembly import Sink
from engine.inference.preflight import check_output_fits
from engine.inference.strips import Quantizer, make_chain
from engine.inference.tiling import NotEnoughMemory
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions, passes_needed


def plan_raster(
    upscaler: Upscaler, image: ImageData, target: TargetSize, output: Path, write: WriteOptions
) -> PixelLayout:
    """The layout ``output``'s format gives this image's result, once it is known to fit in
    memory and on disk (ImageError otherwise, before any model work)."""
    info = FORMATS[format_for_suffix(write.format or output.suffix)]
    has_alpha = image.alpha is not None
    layout = layout_for(info, grey=image.is_grey, alpha=has_alpha, bit_depth=image.bit_depth)
    size = target.resolve(image.width, image.height, upscaler.descriptor.scale)
    passes_needed((image.width, image.height), size, upscaler.descriptor.scale)
    check_output_fits(
        output,
        size=size,
        layout=layout,
        info=info,
        quality=write.quality,
        composite=has_alpha and not layout.alpha,
        model_scale=upscaler.descriptor.scale,
        source_width=image.width,
    )
    return layout


def upscale_to_raster(
    upscaler: Upscaler,
    image: ImageData,
    target: TargetSize,
    layout: PixelLayout,
    cancel: CancelToken,
) -> Iterator[Event]:
    """Colour and alpha through the model into a Raster of ``layout``; Finished(Raster).

    A layout without alpha gets the image composited over white, as the writer would; the
    alpha then runs first, into a 16-bit plane the colour strips are composited with.
    """
    height, width = image.color.shape[:2]
    size = target.resolve(width, height, upscaler.descriptor.scale)
    passes = passes_needed((width, height), size, upscaler.descriptor.scale)
    out = _allocate(layout, size)
    held = size[0] * size[1] * layout.bytes_per_pixel
    backdrop = None
    if image.alpha is not None and not layout.alpha:
        alpha_layout = PixelLayout(dtype=np.uint16, color_channels=1, alpha=False)
        backdrop = _allocate(alpha_layout, size)
        held += backdrop.nbytes
        plane = Quantizer(backdrop, start=0, channels=1)
        yield from _alpha_into(upscaler, image.alpha, passes, size, plane, held, cancel)
    colour = Quantizer(out, start=0, channels=layout.color_channels, backdrop=backdrop)
    yield from _planes_into(upscaler, image.color, passes, size, colour, held, cancel, "upscale")
    del backdrop, colour  # the alpha plane is composited in: free it before the encoder runs
    if image.alpha is not None and layout.alpha:
        plane = Quantizer(out, start=layout.color_channels, channels=1)
        yield from _alpha_into(upscaler, image.alpha, passes, size, plane, held, cancel)
    yield Finished(result=Raster.carrying(out, alpha=layout.alpha, source=image))


def _planes_into(
    upscaler: Upscaler,
    planes: np.ndarray,
    passes: int,
    size: tuple[int, int],
    final: Sink,
    held: int,
    cancel: CancelToken,
    stage: str,
) -> Generator[Event, None, None]:
    """All passes but the last keep float output (a second pass needs it as input)."""
    channels = planes.shape[2]
    work = planes
    for index in range(passes - 1):
        label = f"{stage} (pass {index + 1}/{passes})"
        work = yield from result_of(upscaler.run(work, cancel, label))
    label = stage if passes == 1 else f"{stage} (pass {passes}/{passes})"
    scale = upscaler.descriptor.scale
    model_size = (work.shape[0] * scale, work.shape[1] * scale)
    make_sink = make_chain(image_channels=channels, model_size=model_size, size=size, final=final)
    resized = (model_size[1], model_size[0]) != size
    yield from upscaler.run_into(
        work, cancel, label, make_sink, reserved_bytes=held, whole_rows=resized
    )


def _alpha_into(
    upscaler: Upscaler,
    alpha: np.ndarray,
    passes: int,
    size: tuple[int, int],
    final: Quantizer,
    held: int,
    cancel: CancelToken,
) -> Generator[Event, None, None]:
    """Alpha goes through the model so its edges stay as sharp as the colour's."""
    lo, hi = float(alpha.min()), float(alpha.max())
    if lo == hi:
        # A constant mask has no edges to sharpen; the model would only add noise.
        final.fill(lo)
        return
    yield from _planes_into(upscaler, alpha, passes, size, final, held, cancel, "upscale alpha")


def _allocate(layout: PixelLayout, size: tuple[int, int]) -> np.ndarray:
    try:
        return layout.allocate(size[1], size[0])
    except MemoryError as error:
        gib = size[0] * size[1] * layout.bytes_per_pixel / 2**30
        raise NotEnoughMemory(f"not enough memory for the {gib:.1f} GiB output image") from error
