from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from skimage import data as skdata
from support import NearestX4, make_descriptor
from torch import nn

from engine.errors import ModelError
from engine.events import Cancelled, CancelToken, Finished, Notice, Progress
from engine.inference import tile_clock, tile_memory, tiling
from engine.inference.backends import TorchBackend
from engine.inference.tile_clock import TileClock, TileProgress
from engine.inference.tiling import (
    NotEnoughMemory,
    TileOptions,
    auto_tile_size,
    axis_weights,
    choose_tile_size,
    plan_tiles,
    recommended_overlap,
    run_tiled,
)
from engine.models.descriptor import ModelDescriptor
from engine.models.mfa import DEFAULT_CONFIG, MFAGenerator
from engine.models.registry import get_model

TWO_LEVELS = 2.0 / 255.0


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def photo(name: str, height: int, width: int, *, top: int = 0, left: int = 0) -> np.ndarray:
    pixels = getattr(skdata, name)()[top : top + height, left : left + width]
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def finish(events: Iterator) -> tuple[np.ndarray, list]:
    collected = list(events)
    assert isinstance(collected[-1], Finished)
    return collected[-1].result, collected[:-1]


def nearest(x: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(x, 4, axis=2), 4, axis=3)


class NearestBackend:
    """Exact nearest x4 that records the tile sizes it was given."""

    name = "nearest"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.tokens: list[CancelToken | None] = []

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        self.shapes.append(x.shape)
        self.tokens.append(cancel)
        return nearest(x)


class FailsAbove(NearestBackend):
    """Raises ``error`` for any tile side above ``limit``: a machine short of memory."""

    def __init__(self, limit: int, error: Exception) -> None:
        super().__init__()
        self.limit, self.error = limit, error

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        if max(x.shape[2:]) > self.limit:
            self.shapes.append(x.shape)
            raise self.error
        return super().run(x, cancel=cancel)


@pytest.mark.parametrize(
    ("length", "tile", "overlap", "multiple"),
    [(100, 32, 8, 1), (96, 40, 16, 4), (257, 64, 24, 2), (64, 64, 16, 4), (513, 128, 64, 8)],
)
def test_tiles_cover_the_image_on_the_model_grid_and_share_the_overlap(
    length, tile, overlap, multiple
):
    padded = math.ceil(length / multiple) * multiple
    plan = plan_tiles(padded, 24, tile=tile, overlap=overlap, size_multiple=multiple, scale=4)
    assert plan.tile_width == 24 and plan.xs == (0,)
    starts = plan.ys
    assert starts[0] == 0 and starts[-1] + plan.tile_height == padded
    assert all(start % multiple == 0 for start in starts)
    assert plan.tile_height <= tile and plan.tile_height % multiple == 0
    for before, after in itertools.pairwise(starts):
        assert before + plan.tile_height - after >= overlap  # shared pixels
        assert after - before >= multiple


def test_blend_weights_sum_to_one_and_skip_pixels_near_inner_tile_edges():
    origins = (0, 40, 80)
    weights = axis_weights(origins, 64, 24, 4)
    total = np.zeros((80 + 64) * 4)
    for origin, weight in zip(origins, weights, strict=True):
        total[origin * 4 : (origin + 64) * 4] += weight
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    context = (24 - tiling.CROSSFADE) / 2 * 4  # HR pixels next to an inner edge that are unused
    middle = weights[1]
    assert middle[: int(context)].max() < 1e-5 and middle[-int(context) :].max() < 1e-5
    assert weights[0][0] == 1.0 and weights[-1][-1] == 1.0  # image borders are not inner edges


def test_tiling_pads_to_the_size_multiple_and_crops_back_exactly():
    image = photo("astronaut", 37, 53, top=100, left=150)
    backend = NearestBackend()
    result, events = finish(
        run_tiled(backend, image, TileOptions(scale=4, tile=24, overlap=8, size_multiple=8))
    )
    assert result.shape == (1, 3, 148, 212)
    np.testing.assert_allclose(result, nearest(image), atol=1e-6)
    assert {shape[2:] for shape in backend.shapes} == {(24, 24)}
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.done for p in progress] == list(range(len(backend.shapes) + 1))
    assert all(p.total == len(backend.shapes) and p.stage == "tiles" for p in progress)


@pytest.mark.parametrize(
    ("name", "top", "left"), [("astronaut", 20, 140), ("coffee", 120, 200), ("chelsea", 60, 90)]
)
def test_tiled_equals_untiled_for_the_student_on_photos(name, top, left):
    descriptor = get_model("mfagan")
    backend = TorchBackend(descriptor, threads=1)
    image = photo(name, 131, 157, top=top, left=left)  # odd sizes: padded to the multiple
    overlap = recommended_overlap(descriptor)
    common = {"scale": 4, "overlap": overlap, "size_multiple": descriptor.size_multiple}
    untiled, _ = finish(run_tiled(backend, image, TileOptions(tile=None, **common)))
    tiled, events = finish(run_tiled(backend, image, TileOptions(tile=2 * overlap, **common)))
    assert [e for e in events if isinstance(e, Progress)][-1].total == 4
    assert tiled.shape == untiled.shape == (1, 3, 524, 628)
    assert np.abs(np.clip(tiled, 0, 1) - np.clip(untiled, 0, 1)).max() <= TWO_LEVELS
    # The comparison does see seams: the same tiles without overlap are far off.
    seamed, _ = finish(
        run_tiled(backend, image, TileOptions(tile=2 * overlap, **{**common, "overlap": 0}))
    )
    assert np.abs(np.clip(seamed, 0, 1) - np.clip(untiled, 0, 1)).max() > 10 * TWO_LEVELS


@pytest.mark.slow
def test_tiled_equals_untiled_for_the_teacher_on_a_photo_strip():
    # The teacher needs ~60 px of context, so two tiles need a 384 px wide crop; 12 rows
    # keep it to a few seconds (top and bottom borders are the same in both runs).
    descriptor = get_model("realesrgan-x4plus")
    backend = TorchBackend(descriptor, threads=1)
    image = photo("astronaut", 12, 384, top=100, left=100)
    common = {"scale": 4, "overlap": recommended_overlap(descriptor), "size_multiple": 1}
    untiled, _ = finish(run_tiled(backend, image, TileOptions(tile=None, **common)))
    tiled, events = finish(run_tiled(backend, image, TileOptions(tile=256, **common)))
    assert [e for e in events if isinstance(e, Progress)][-1].total == 2
    assert not [e for e in events if isinstance(e, Notice)]  # overlap not trimmed
    assert np.abs(np.clip(tiled, 0, 1) - np.clip(untiled, 0, 1)).max() <= TWO_LEVELS


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError(
            "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
            "memory: you tried to allocate 40000000000 bytes. Error code 12"
        ),
        RuntimeError(
            "[ONNXRuntimeError] : 1 : FAIL : Non-zero status code returned while running Conv "
            "node. Failed to allocate memory for requested buffer of size 40000000000"
        ),
        MemoryError(),
    ],
)
def test_out_of_memory_halves_the_tile_and_retries(error):
    image = photo("chelsea", 90, 200)
    backend = FailsAbove(60, error)
    result, events = finish(run_tiled(backend, image, TileOptions(scale=4, tile=256, overlap=8)))
    np.testing.assert_allclose(result, nearest(image), atol=1e-6)
    notices = [e.message for e in events if isinstance(e, Notice)]
    # 100 px fits the 200 px width in three 72 px tiles, but not the 90 px height.
    assert notices == [
        "out of memory with 200 px tiles; retrying with 100 px",
        "out of memory with 90 px tiles; retrying with 45 px",
    ]
    assert [shape[2:] for shape in backend.shapes[:2]] == [(90, 200), (90, 72)]
    assert max(max(shape[2:]) for shape in backend.shapes[2:]) <= 45


def test_out_of_memory_below_the_smallest_tile_is_reported():
    backend = FailsAbove(10, MemoryError())
    with pytest.raises(NotEnoughMemory, match="not enough memory even with 27 px tiles"):
        finish(
            run_tiled(backend, photo("coffee", 64, 64), TileOptions(scale=4, tile=64, overlap=8))
        )
    assert [max(shape[2:]) for shape in backend.shapes] == [64, 27]  # 3 x 27 px cover 64


def test_other_errors_are_not_retried():
    backend = FailsAbove(10, RuntimeError("Given groups=1, expected input to have 3 channels"))
    with pytest.raises(RuntimeError, match="groups=1"):
        finish(
            run_tiled(backend, photo("coffee", 64, 64), TileOptions(scale=4, tile=64, overlap=8))
        )
    assert len(backend.shapes) == 1


def test_cancel_is_honoured_between_tiles():
    backend, cancel = NearestBackend(), CancelToken()
    events = run_tiled(
        backend, photo("coffee", 64, 64), TileOptions(scale=4, tile=32, overlap=8, cancel=cancel)
    )
    with pytest.raises(Cancelled):
        for event in events:
            if isinstance(event, Progress) and event.done == 2:
                cancel.cancel()
    assert len(backend.shapes) == 2
    assert backend.tokens == [cancel, cancel]  # so a backend can stop inside a tile too


class CancelsOnFirstCall(nn.Module):
    """Nearest x4 that sets ``cancel`` in the middle of its first forward."""

    def __init__(self, cancel: CancelToken) -> None:
        super().__init__()
        self.cancel, self.upsample = cancel, NearestX4()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.cancel.cancel()
        return self.upsample(x)


def test_a_cancel_during_a_tile_stops_the_real_backend_inside_it():
    cancel = CancelToken()
    backend = TorchBackend(make_descriptor(CancelsOnFirstCall(cancel), name="cancels"), threads=1)
    events = []
    with pytest.raises(Cancelled):
        options = TileOptions(scale=4, tile=32, overlap=8, cancel=cancel)
        for event in run_tiled(backend, photo("coffee", 64, 64), options):
            events.append(event)
    assert events == [Progress(stage="tiles", done=0, total=9)]


def test_a_model_with_the_wrong_scale_is_a_model_error():
    class TwiceOnly(NearestBackend):
        def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
            return np.repeat(np.repeat(x, 2, axis=2), 2, axis=3)

    with pytest.raises(ModelError, match=r"expected \(1, C, 128, 128\).*x4"):
        finish(
            run_tiled(
                TwiceOnly(), photo("coffee", 32, 32), TileOptions(scale=4, tile=None, overlap=8)
            )
        )


def test_small_tiles_trim_the_overlap_and_say_so():
    _, events = finish(
        run_tiled(
            NearestBackend(), photo("coffee", 64, 64), TileOptions(scale=4, tile=32, overlap=64)
        )
    )
    assert [e.message for e in events if isinstance(e, Notice)] == [
        "32 px tiles are small for this model: overlap 16 px instead of 64, "
        "seams may be faintly visible"
    ]


def student_descriptor(name: str) -> ModelDescriptor:
    described = make_descriptor(MFAGenerator(DEFAULT_CONFIG), name=name)
    return dataclasses.replace(described, size_multiple=DEFAULT_CONFIG.size_multiple)


def test_auto_tile_size_fits_the_memory_budget_and_is_reported(monkeypatch):
    descriptor = student_descriptor("auto-student")
    profiled = []
    real_profile = tile_memory.profile_model
    monkeypatch.setattr(
        tile_memory, "profile_model", lambda *a, **k: profiled.append(1) or real_profile(*a, **k)
    )
    choices = [auto_tile_size(descriptor, budget_bytes=2**b) for b in (20, 24, 26, 28, 34)]
    assert len(profiled) == 1  # profiled once per model, then cached
    tiles = [choice.tile for choice in choices]
    assert tiles == sorted(tiles) and tiles[0] == tiling.MIN_TILE and tiles[-1] == tiling.MAX_TILE
    for choice in choices[1:-1]:
        assert choice.tile % 16 == 0
        needed = choice.tile**2 * choice.bytes_per_pixel * tiling.ACTIVATION_SAFETY
        assert needed <= choice.budget_bytes < 4 * needed  # fits, and not far too small
    assert choices[2].notice.message == f"tile size auto: {tiles[2]} (budget 0.1 GiB)"
    assert (choices[2].notice.tile, choices[2].notice.budget_bytes) == (tiles[2], 2**26)
    assert choose_tile_size(descriptor, budget_bytes=2**26) == tiles[2]


def test_auto_tile_size_budget_comes_from_available_memory():
    choice = auto_tile_size(make_descriptor(NearestX4(), name="auto-nearest"))
    assert 0 < choice.budget_bytes <= tile_memory.psutil.virtual_memory().total
    assert choice.bytes_per_pixel > 0
    assert choice.notice.message.startswith(f"tile size auto: {choice.tile} (budget ")


class MixingBackend(NearestBackend):
    """x4 output that depends on every pixel's neighbours (as a real network does), so
    tiles disagree near their edges and the blending really matters."""

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        super().run(x, cancel=cancel)
        padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")
        blur = sum(
            padded[:, :, dy : dy + x.shape[2], dx : dx + x.shape[3]]
            for dy in range(5)
            for dx in range(5)
        ) / np.float32(25.0)
        return nearest(0.7 * x + 0.4 * blur - 0.05).astype(np.float32)


def full_float_reference(backend, image, *, scale, tile, overlap, size_multiple=1):
    """The assembly before blocks: one full-size float32 accumulator, tiles in row-major
    order (kept here to prove the block assembly is bit-identical to it)."""
    height, width = image.shape[-2:]
    padded = tiling.pad_to_multiple(image, size_multiple)
    plan = tiling.plan_tiles(
        *padded.shape[-2:], tile=tile, overlap=overlap, size_multiple=size_multiple, scale=scale
    )
    s, th, tw = scale, plan.tile_height, plan.tile_width
    weights_y = tiling.axis_weights(plan.ys, th, plan.overlap, s)
    weights_x = tiling.axis_weights(plan.xs, tw, plan.overlap, s)
    output = None
    for y, weight_y in zip(plan.ys, weights_y, strict=True):
        for x, weight_x in zip(plan.xs, weights_x, strict=True):
            result = backend.run(padded[:, :, y : y + th, x : x + tw])
            if output is None:
                output = np.zeros((1, result.shape[1], plan.height * s, plan.width * s), np.float32)
            region = output[:, :, y * s : (y + th) * s, x * s : (x + tw) * s]
            region += result * (weight_y[:, None] * weight_x[None, :])
    return output[:, :, : height * s, : width * s]


@pytest.mark.parametrize(
    ("height", "width", "tile", "overlap", "multiple"),
    [(90, 200, 48, 16, 1), (64, 64, 32, 8, 4), (77, 53, 40, 24, 2), (50, 130, None, 8, 1)],
)
def test_block_assembly_is_bit_identical_to_one_float_accumulator(
    height, width, tile, overlap, multiple
):
    image = photo("chelsea", height, width)
    expected = full_float_reference(
        MixingBackend(), image, scale=4, tile=tile, overlap=overlap, size_multiple=multiple
    )
    got, _ = finish(
        run_tiled(
            MixingBackend(),
            image,
            TileOptions(scale=4, tile=tile, overlap=overlap, size_multiple=multiple),
        )
    )
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def test_planes_are_cut_padded_and_converted_per_tile_as_the_whole_array_was():
    planes = photo("chelsea", 45, 61)[0].transpose(1, 2, 0)
    whole = tiling.ArraySource(np.ascontiguousarray(planes.transpose(2, 0, 1)[None]), 8)
    per_tile = tiling.PlanesSource(planes, 3, 8)
    assert per_tile.padded_size == whole.padded_size == (48, 64)
    for y, x, h, w in [(0, 0, 48, 64), (40, 56, 8, 8), (16, 24, 32, 40), (8, 0, 40, 16)]:
        np.testing.assert_array_equal(per_tile.read(y, x, h, w), whole.read(y, x, h, w))
    grey = tiling.PlanesSource(planes[:, :, :1], 3, 8).read(0, 0, 16, 16)
    assert grey.shape == (1, 3, 16, 16) and np.array_equal(grey[:, 0], grey[:, 2])


class SlowBackend(NearestBackend):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def run(self, x: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            if cancel is not None:
                cancel.raise_if_cancelled()
            time.sleep(0.005)
        return super().run(x, cancel=cancel)


@pytest.fixture
def quick_progress(monkeypatch):
    """Report inside any tile expected to take over 10 ms, every 10 ms."""
    monkeypatch.setattr(tile_clock, "THREAD_ABOVE_SECONDS", 0.01)
    monkeypatch.setattr(tile_clock, "PROGRESS_SECONDS", 0.01)


def test_progress_arrives_inside_a_long_tile_with_a_time_estimate(quick_progress):
    image = photo("coffee", 64, 64)
    clock = TileClock(seconds_per_pixel=0.3 / (64 * 64))  # as measured on an earlier image
    _, events = finish(
        run_tiled(SlowBackend(0.3), image, TileOptions(scale=4, tile=None, overlap=8, clock=clock))
    )
    inside = [e for e in events if isinstance(e, TileProgress)]
    assert len(inside) >= 3
    assert all(e.done == 0 and e.total == 1 for e in inside)
    fractions = [e.fraction for e in inside]
    assert fractions == sorted(fractions) and fractions[0] > 0 and fractions[-1] < 1
    assert inside[-1].seconds_left is not None and inside[-1].seconds_left < 0.3
    assert inside[0].message.startswith("tile 1 of 1: about ")
    assert events[-1] == Progress(stage="tiles", done=1, total=1)
    assert clock.seconds_per_pixel is not None and not clock.calibrated_on_crop


def test_an_unmeasured_computer_times_a_small_crop_before_a_large_first_tile(quick_progress):
    backend = SlowBackend(0.0)
    clock = TileClock()
    finish(
        run_tiled(
            backend,
            photo("coffee", 256, 256),
            TileOptions(scale=4, tile=None, overlap=8, clock=clock),
        )
    )
    side = tile_clock.CALIBRATION_SIDE
    assert [s[2:] for s in backend.shapes] == [(side, side), (256, 256)]
    assert clock.seconds_per_pixel is not None


def test_a_cancel_stops_a_tile_that_reports_progress(quick_progress):
    cancel = CancelToken()
    clock = TileClock(seconds_per_pixel=5.0 / (64 * 64))
    events = run_tiled(
        SlowBackend(5.0),
        photo("coffee", 64, 64),
        TileOptions(scale=4, tile=None, overlap=8, cancel=cancel, clock=clock),
    )
    # Only a backend that saw the token inside its one tile raises: no check comes after it.
    with pytest.raises(Cancelled):
        for event in events:
            if isinstance(event, TileProgress):
                cancel.cancel()


def test_auto_tile_counts_the_output_image_and_its_blending(monkeypatch):
    descriptor = student_descriptor("auto-footprint")
    budget = 2**28
    alone = auto_tile_size(descriptor, budget_bytes=budget)
    wide = tile_memory.ImageFootprint(width=4000, channels=3, overlap=64)
    with_image = auto_tile_size(descriptor, budget_bytes=budget, footprint=wide)
    assert with_image.tile < alone.tile
    assert tile_memory.tile_bytes(descriptor, with_image.tile, wide) <= budget
    # The default budget is half of what is left once the output is held.
    monkeypatch.setattr(
        tile_memory.psutil, "virtual_memory", lambda: type("M", (), {"available": 3 * 2**30})()
    )
    held = dataclasses.replace(wide, reserved_bytes=2 * 2**30)
    choice = auto_tile_size(descriptor, footprint=held)
    assert choice.budget_bytes == 2**29
    assert choice.notice.message == (
        f"tile size auto: {choice.tile} (budget 0.5 GiB, after 2.0 GiB for the image itself)"
    )


def test_a_tile_above_what_memory_allows_is_reduced_with_a_notice(monkeypatch):
    descriptor = student_descriptor("requested-tile")
    monkeypatch.setattr(
        tile_memory.psutil, "virtual_memory", lambda: type("M", (), {"available": 2**30})()
    )
    tile, notice = tile_memory.fit_requested_tile(descriptor, 4096)
    assert tile < 4096 and tile == auto_tile_size(descriptor).tile
    assert notice is not None and notice.message.startswith("--tile 4096 needs about ")
    assert notice.message.endswith(f"; using {tile} px tiles")
    assert tile_memory.fit_requested_tile(descriptor, 64) == (64, None)


def test_auto_tile_counts_the_whole_rows_a_resize_holds():
    descriptor = student_descriptor("auto-rows")
    blocks = tile_memory.ImageFootprint(width=4000, channels=3, overlap=64)
    rows = dataclasses.replace(blocks, whole_rows=True)
    budget = 2**30
    assert tile_memory.tile_bytes(descriptor, 256, rows) > tile_memory.tile_bytes(
        descriptor, 256, blocks
    )
    small = auto_tile_size(descriptor, budget_bytes=budget, footprint=rows)
    assert small.tile < auto_tile_size(descriptor, budget_bytes=budget, footprint=blocks).tile
    assert tile_memory.tile_bytes(descriptor, small.tile, rows) <= budget
