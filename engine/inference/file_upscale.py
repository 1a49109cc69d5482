"""One photo file in, one upscaled file out: read, plan, render in tiles, write atomically.

Apart from ``upscale`` (the Upscaler and in-memory paths) because it builds on ``render``,
which builds on ``upscale``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from engine.events import CancelToken, Event, Finished, Notice, result_of
from engine.imageio import read_image, write_image
from engine.imageio.formats import FORMATS, format_for_suffix
from engine.inference.outputs import check_output, make_output_folder
from engine.inference.render import plan_raster, upscale_to_raster
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions


def upscale_file(
    upscaler: Upscaler,
    source: Path,
    output: Path,
    *,
    target: TargetSize,
    write: WriteOptions,
    cancel: CancelToken,
    overwrite: bool = False,
) -> Iterator[Event]:
    """Read, upscale and atomically write one file; Finished(result=details dict).

    The output is checked before any work (engine.inference.outputs): never the input,
    never an existing file unless ``overwrite``, in a folder that can be made.
    """
    check_output(output, inputs=[source], format=write.format, overwrite=overwrite)
    started = time.perf_counter()
    image = read_image(source)
    for note in image.notes:  # e.g. a damaged colour profile left out, frames after the first
        yield Notice(message=f"{source}: {note}")
    see_through = image.alpha is not None and float(image.alpha.min()) < 1.0
    if see_through and (note := _alpha_note(output, write)) is not None:
        yield Notice(message=note)
    input_size = [image.width, image.height]
    layout = plan_raster(upscaler, image, target, output, write)  # fits in memory and on disk?
    result = yield from result_of(upscale_to_raster(upscaler, image, target, layout, cancel))
    del image  # the float input is not needed to encode
    cancel.raise_if_cancelled()
    make_output_folder(output)
    write_image(
        output,
        result,
        format=write.format,
        quality=write.quality,
        keep_metadata=write.keep_metadata,
        overwrite=overwrite,  # a file that appeared meanwhile is kept: "already exists"
        cancel=cancel,  # until the file is published, a cancel leaves no output
    )
    details = upscaler.details() | {
        "input": str(source),
        "output": str(output),
        "input_size": input_size,
        "output_size": [result.width, result.height],
        "seconds": round(time.perf_counter() - started, 3),
    }
    yield Finished(result=details)


def _alpha_note(output: Path, write: WriteOptions) -> str | None:
    """What an output format without transparency does to an input with it, or None."""
    info = FORMATS[format_for_suffix(write.format or output.suffix)]
    if info.alpha:
        return None
    return f"{output}: {info.label} cannot hold transparency; transparent areas are put on white"
