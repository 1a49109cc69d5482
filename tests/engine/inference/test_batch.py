from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from support import file_hash, rgb_noise

from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, FileDone, FileFailed, Finished
from engine.inference.batch import BatchRequest, find_images, output_name, run_batch
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions


def _folder(root: Path) -> Path:
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    for index, name in enumerate(["a.png", "b.jpg", "sub/c.png"]):
        Image.fromarray(rgb_noise(12, 10, seed=index)).save(src / name)
    (src / "broken.png").write_bytes(b"this is not an image")
    (src / "notes.txt").write_text("ignored: not an image suffix")
    return src


def _run(upscaler, request, cancel=None):
    events = list(run_batch(upscaler, request, cancel or CancelToken()))
    assert isinstance(events[-1], Finished)
    return events[-1].result, events


def test_batch_goes_on_after_a_bad_file_and_reports_it(nearest_descriptor, tmp_path):
    src = _folder(tmp_path)
    hashes = {p: file_hash(p) for p in src.rglob("*") if p.is_file()}
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    result, events = _run(upscaler, BatchRequest(input_dir=src, output_dir=tmp_path / "out"))
    assert sorted(p.name for p in result.done) == ["a.png", "b.jpg"]
    assert [
        (p.name, "not" in reason.lower() or "cannot" in reason.lower())
        for p, reason in result.failed
    ] == [("broken.png", True)]
    assert any(isinstance(e, FileFailed) for e in events)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a_nearest_x4.png",
        "b_nearest_x4.jpg",
    ]
    assert {p: file_hash(p) for p in hashes} == hashes


def test_recursive_mirrors_folders_and_honours_format(nearest_descriptor, tmp_path):
    src = _folder(tmp_path)
    (src / "broken.png").unlink()
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(
        input_dir=src,
        output_dir=src / "upscaled",
        recursive=True,
        target=TargetSize(scale=2),
        write=WriteOptions(format="webp", quality=80),
    )
    result, _ = _run(upscaler, request)
    assert result.ok and len(result.done) == 3
    out = src / "upscaled" / "sub" / "c_nearest_x2.webp"
    with Image.open(out) as image:
        assert image.format == "WEBP"
        assert image.size == (20, 24)
    # Running again must not pick up its own outputs as inputs.
    assert len(find_images(src, recursive=True, exclude=src / "upscaled")) == 3


def test_skip_existing_resumes(nearest_descriptor, tmp_path):
    src = _folder(tmp_path)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(input_dir=src, output_dir=tmp_path / "out", skip_existing=True)
    first, _ = _run(upscaler, request)
    again, events = _run(upscaler, request)
    assert len(first.done) == 2
    assert again.done == [] and sorted(p.name for p in again.skipped) == ["a.png", "b.jpg"]
    assert not any(isinstance(e, FileDone) for e in events)


def test_cancel_mid_batch_leaves_only_complete_files(nearest_descriptor, tmp_path):
    src = _folder(tmp_path)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    cancel = CancelToken()
    out = tmp_path / "out"
    with pytest.raises(Cancelled):
        for event in run_batch(upscaler, BatchRequest(input_dir=src, output_dir=out), cancel):
            if isinstance(event, FileDone):
                cancel.cancel()
    written = list(out.iterdir())
    assert [p.name for p in written] == ["a_nearest_x4.png"]
    with Image.open(written[0]) as image:
        image.load()


def test_name_pattern_errors_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="invalid"):
        output_name(Path("a.png"), pattern="{nope}", model="m", scale_label="x4", format=None)
    with pytest.raises(UsageError, match="plain file name"):
        output_name(Path("a.png"), pattern="x/{stem}", model="m", scale_label="x4", format=None)
    assert (
        output_name(Path("a.PNG"), pattern="{stem}", model="m", scale_label="x4", format="jpg")
        == "a.jpg"
    )


def test_collisions_are_refused_before_any_work(nearest_descriptor, tmp_path):
    src = _folder(tmp_path)
    (src / "broken.png").unlink()
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(
        input_dir=src,
        output_dir=tmp_path / "out",
        name_pattern="same",
        write=WriteOptions(format="png"),
    )
    with pytest.raises(UsageError, match="same output name"):
        _run(upscaler, request)
    assert not (tmp_path / "out").exists()


def test_output_folder_may_be_the_input_folder_or_above_it(nearest_descriptor, tmp_path):
    src = _folder(tmp_path)
    (src / "broken.png").unlink()
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    beside, _ = _run(upscaler, BatchRequest(input_dir=src, output_dir=src))
    assert sorted(p.name for p in beside.done) == ["a.png", "b.jpg"]
    assert (src / "a_nearest_x4.png").is_file()
    above, _ = _run(upscaler, BatchRequest(input_dir=src / "sub", output_dir=tmp_path))
    assert [p.name for p in above.done] == ["c.png"]


def test_a_model_that_cannot_load_fails_the_batch_once(tmp_path):
    from dataclasses import replace

    from support import NearestX4, make_descriptor

    from engine.errors import ModelError

    def broken():
        raise ModelError("weights.pth: the file is damaged")

    descriptor = replace(make_descriptor(NearestX4()), load=broken)
    src = _folder(tmp_path)
    with pytest.raises(ModelError, match="damaged"):
        _run(
            Upscaler(descriptor, backend="torch", tile=64),
            BatchRequest(input_dir=src, output_dir=tmp_path / "out"),
        )
    assert not (tmp_path / "out").exists()
