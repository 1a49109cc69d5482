"""A folder scan leaves the app's own results out and says how many (a new user's batch into
another folder upscaled astronaut_mfagan_x4.png again, 2048 -> 8192 px); a file named by the
user is still upscaled, whatever it is."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image
from support import rgb_noise

from engine.cli import main
from engine.events import CancelToken, Finished, Notice
from engine.imageio.marker import is_our_result
from engine.inference.batch import (
    DEFAULT_NAME_PATTERN,
    BatchRequest,
    find_images,
    output_name,
    results_line,
    run_batch,
)
from engine.inference.batch_scan import OUR_RESULT, OUR_RESULT_BY_NAME, scan_folder
from engine.inference.file_upscale import upscale_file
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions


def _run(upscaler: Upscaler, request: BatchRequest):
    events = list(run_batch(upscaler, request, CancelToken()))
    assert isinstance(events[-1], Finished)
    return events[-1].result, events


def _photos(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        Image.fromarray(rgb_noise(10, 12, seed=index)).save(folder / name)
    return [folder / name for name in names]


def _results_beside(upscaler: Upscaler, folder: Path) -> list[Path]:
    """What earlier runs left in the photos' own folder: one result in each marked format."""
    written = []
    for fmt in ("png", "jpg", "webp", "tiff"):
        request = BatchRequest(
            input_dir=folder, output_dir=folder, write=WriteOptions(format=fmt), skip_existing=True
        )
        result, _ = _run(upscaler, request)
        written += result.outputs
    return written


def test_a_batch_into_another_folder_leaves_earlier_results_out(nearest_descriptor, tmp_path):
    src = tmp_path / "photos"
    photos = _photos(src, "astronaut.png", "coffee.jpg")
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    earlier = _results_beside(upscaler, src)
    assert len(earlier) == 8 and all(is_our_result(p) for p in earlier)
    result, events = _run(upscaler, BatchRequest(input_dir=src, output_dir=tmp_path / "out"))
    assert result.done == photos  # "2 of 2 images", not 10
    assert sorted(result.ignored) == sorted((p, OUR_RESULT) for p in earlier)
    assert result.results_left_out == 8
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert results_line(8) in notices
    assert results_line(8) == "8 earlier results of MFAGAN Studio left out (not upscaled again)"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "astronaut_nearest_x4.png",
        "coffee_nearest_x4.jpg",
    ]


def test_a_renamed_or_moved_result_is_known_by_its_mark(nearest_descriptor, tmp_path):
    src = tmp_path / "photos"
    (photo,) = _photos(src, "astronaut.png")
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    (result_file,) = _run(upscaler, BatchRequest(input_dir=src, output_dir=src))[0].outputs
    elsewhere = tmp_path / "mixed"
    elsewhere.mkdir()
    shutil.move(result_file, elsewhere / "holiday big.png")  # no original beside it now
    shutil.copy(photo, elsewhere / "astronaut.png")
    scan = scan_folder(elsewhere, recursive=False)
    assert scan.images == [elsewhere / "astronaut.png"]
    assert scan.ignored == [(elsewhere / "holiday big.png", OUR_RESULT)]
    assert find_images(elsewhere, recursive=False) == [elsewhere / "astronaut.png"]


def test_results_written_before_the_mark_are_known_only_by_their_exact_name(tmp_path):
    """No mark (an older version wrote them, or BMP, which holds none): left out only when
    named by the default pattern with a model we know, beside the original."""
    src = tmp_path / "photos"
    named = output_name(
        src / "astronaut.png",
        pattern=DEFAULT_NAME_PATTERN,
        model="bicubic",
        scale_label=TargetSize().label(4),
        format=None,
    )
    assert named == "astronaut_bicubic_x4.png"
    _photos(
        src,
        "astronaut.png",
        named,  # an older result: no mark, by a model we know, the original beside it
        "astronaut_bicubic_w1920.bmp",
        "astronaut_holiday_x4.png",  # "holiday" is no model: the user's own photo
        "lonely_bicubic_x4.png",  # no lonely.* beside it: nothing says it is ours
    )
    scan = scan_folder(src, recursive=False)
    assert [p.name for p in scan.images] == [
        "astronaut.png",
        "astronaut_holiday_x4.png",
        "lonely_bicubic_x4.png",
    ]
    assert [(p.name, why) for p, why in scan.ignored] == [
        ("astronaut_bicubic_w1920.bmp", OUR_RESULT_BY_NAME),
        (named, OUR_RESULT_BY_NAME),
    ]


def test_a_result_named_explicitly_is_still_upscaled(nearest_descriptor, tmp_path):
    src = tmp_path / "photos"
    _photos(src, "astronaut.png")
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    (earlier,) = _run(upscaler, BatchRequest(input_dir=src, output_dir=src))[0].outputs
    output = tmp_path / "again.png"
    events = list(
        upscale_file(
            upscaler,
            earlier,
            output,
            target=TargetSize(),
            write=WriteOptions(),
            cancel=CancelToken(),
        )
    )
    assert isinstance(events[-1], Finished)
    assert events[-1].result["output_size"] == [12 * 16, 10 * 16]
    assert is_our_result(output)


def test_mfagan_batch_lists_and_counts_the_results_left_out(
    astronaut_png, tmp_path, capsys
) -> None:
    src = astronaut_png.parent
    out = tmp_path / "out"
    assert main(["upscale", str(astronaut_png), "-m", "bicubic", "--quiet"]) == 0
    earlier = src / "astronaut_bicubic_x4.png"
    assert is_our_result(earlier)
    capsys.readouterr()
    assert main(["batch", str(src), "-o", str(out), "-m", "bicubic", "--backend", "torch"]) == 0
    captured = capsys.readouterr()
    assert "1 upscaled, 0 skipped, 0 failed, 1 left aside" in captured.out
    assert f"left aside: {earlier}: {OUR_RESULT}" in captured.err
    assert results_line(1) in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["astronaut_bicubic_x4.png"]
