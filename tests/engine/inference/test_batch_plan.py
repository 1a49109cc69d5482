"""The batch plan refuses, before any work, each output whose name the file system cannot
hold (issue 19); the rest of the batch goes on."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from support import rgb_noise

from engine.events import CancelToken, FileFailed, Finished
from engine.files import name_max
from engine.inference.batch import BatchRequest, run_batch
from engine.inference.upscale import Upscaler


def _inputs(folder: Path, *names: str) -> list[Path]:
    folder.mkdir()
    for index, name in enumerate(names):
        Image.fromarray(rgb_noise(8, 8, seed=index)).save(folder / name)
    return [folder / name for name in names]


def test_an_output_name_too_long_fails_alone_before_any_work(nearest_descriptor, tmp_path):
    # The input fits; with "_nearest_x4" added, or its temporary's longer name, the output does not.
    long_stem = "s" * (name_max(tmp_path) - len(".png"))
    src = tmp_path / "in"
    short, long = _inputs(src, "a.png", f"{long_stem}.png")
    out = tmp_path / "out"
    request = BatchRequest(input_dir=src, output_dir=out)
    plan = request.plan("nearest", 4)
    by_source = {f.source: f for f in plan.files}
    assert by_source[short].action == "upscale"
    assert by_source[long].action == "fail"
    assert by_source[long].reason.startswith("name too long for the file system: ")
    events = list(run_batch(Upscaler(nearest_descriptor, backend="torch"), request, CancelToken()))
    result = events[-1].result
    assert isinstance(events[-1], Finished)
    assert result.done == [short]
    (failure,) = [e for e in events if isinstance(e, FileFailed)]
    assert failure.path == long
    assert failure.reason.startswith(f"{out / (long_stem + '_nearest_x4.png')}: name too long")
    assert sorted(p.name for p in out.iterdir()) == ["a_nearest_x4.png"]


def test_a_long_name_pattern_fails_every_file_and_writes_nothing(nearest_descriptor, tmp_path):
    src = tmp_path / "in"
    _inputs(src, "a.png", "b.png")
    request = BatchRequest(
        input_dir=src, output_dir=tmp_path / "out", name_pattern="{stem}" + "n" * 300
    )
    plan = request.plan("nearest", 4)
    assert [f.action for f in plan.files] == ["fail", "fail"]
    upscaler = Upscaler(nearest_descriptor, backend="torch")
    result = list(run_batch(upscaler, request, CancelToken()))[-1].result
    assert [p.name for p, _ in result.failed] == ["a.png", "b.png"] and not result.done
    assert not (tmp_path / "out").exists()  # no folder made for nothing
