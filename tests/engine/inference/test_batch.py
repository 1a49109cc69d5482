from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image
from special_files import forbid_opening, special_files
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
    with pytest.raises(UsageError, match="one output name") as caught:
        _run(upscaler, request)
    # The clash names the files, so the user can tell what to rename.
    assert "a.png" in str(caught.value) and "b.jpg" in str(caught.value)
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


def _plain(root: Path, names: dict[str, int]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, seed in names.items():
        Image.fromarray(rgb_noise(8, 8, seed=seed)).save(root / name)
    return root


def test_an_original_named_like_an_output_is_never_replaced_nor_upscaled(
    nearest_descriptor, tmp_path
):
    """Issue 9 item 1: ``batch d -o d --name "{stem}_{scale}" --format jpg`` replaced the
    original a_x4.jpg and then upscaled the replaced file again."""
    src = _plain(tmp_path / "d", {"a.png": 0, "a_x4.jpg": 1})
    before = {p.name: file_hash(p) for p in src.iterdir()}
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(
        input_dir=src,
        output_dir=src,
        name_pattern="{stem}_{scale}",
        write=WriteOptions(format="jpg"),
    )
    result, events = _run(upscaler, request)
    assert {p.name: file_hash(p) for p in src.iterdir()} == before
    assert result.done == []
    assert [(p.name, "already exists" in why) for p, why in result.failed] == [("a.png", True)]
    assert [p.name for p, _ in result.ignored] == ["a_x4.jpg"]
    assert not any(isinstance(e, FileDone) for e in events)


def test_running_twice_into_the_input_folder_reads_no_output(nearest_descriptor, tmp_path):
    src = _plain(tmp_path / "d", {"a.png": 0, "b.png": 1})
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    first, _ = _run(upscaler, BatchRequest(input_dir=src, output_dir=src))
    assert sorted(p.name for p in first.done) == ["a.png", "b.png"]
    written = {p.name: file_hash(p) for p in first.outputs}
    again, _ = _run(upscaler, BatchRequest(input_dir=src, output_dir=src, skip_existing=True))
    assert sorted(p.name for p in again.skipped) == ["a.png", "b.png"]
    assert sorted(p.name for p, _ in again.ignored) == sorted(written)
    third, _ = _run(upscaler, BatchRequest(input_dir=src, output_dir=src, overwrite=True))
    assert sorted(p.name for p in third.done) == ["a.png", "b.png"]
    assert sorted(p.name for p in src.iterdir()) == sorted(["a.png", "b.png", *written])


def test_an_output_through_a_link_is_never_an_input(nearest_descriptor, tmp_path):
    src = _plain(tmp_path / "d", {"a.jpg": 0, "a.png": 1})
    (src / "b.png").hardlink_to(src / "a.png")
    (tmp_path / "alias").symlink_to(src)
    before = {p.name: file_hash(p) for p in src.iterdir()}
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(
        input_dir=src,
        output_dir=tmp_path / "alias",
        name_pattern="{stem}",
        write=WriteOptions(format="png"),
        overwrite=True,
    )
    with pytest.raises(UsageError, match=r"a\.jpg and .*a\.png"):
        _run(upscaler, request)  # a.jpg and a.png would both become a.png
    (src / "a.jpg").unlink()
    del before["a.jpg"]
    result, _ = _run(upscaler, request)
    assert {p.name: file_hash(p) for p in src.iterdir()} == before
    assert sorted((p.name, "would replace the input" in why) for p, why in result.failed) == [
        ("a.png", True),
        ("b.png", True),
    ]


def test_files_left_aside_are_listed_once(nearest_descriptor, tmp_path):
    src = _plain(tmp_path / "in", {"a.png": 0})
    (src / "loop.png").symlink_to(src / "loop.png")
    (src / "gone.png").symlink_to(src / "missing.png")
    (src / "anim.gif").write_bytes(b"GIF89a")
    (src / "notes.txt").write_text("not an image: not listed")
    _plain(src / "sub", {"c.png": 2})
    (src / "sub" / "back").symlink_to(src)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(input_dir=src, output_dir=tmp_path / "out", recursive=True)
    result, _ = _run(upscaler, request)
    assert sorted(p.name for p in result.done) == ["a.png", "c.png"]
    reasons = {p.name: why for p, why in result.ignored}
    assert set(reasons) == {"loop.png", "gone.png", "anim.gif", "back"}
    assert "loop" in reasons["loop.png"] and "loop" in reasons["back"]
    assert "missing" in reasons["gone.png"] and "not supported" in reasons["anim.gif"]


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_model(tmp_path):
    src = _plain(tmp_path / "in", {"a.png": 0})
    (src / "ok.png").write_bytes(b"a file, not a folder")
    with pytest.raises(UsageError, match=r"ok\.png is a file"):
        BatchRequest(input_dir=src, output_dir=src / "ok.png" / "sub")


def test_a_sub_folder_that_cannot_be_made_fails_alone(nearest_descriptor, tmp_path):
    src = _plain(tmp_path / "in", {"a.png": 0})
    _plain(src / "sub", {"c.png": 1})
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_bytes(b"in the way")
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(input_dir=src, output_dir=out, recursive=True)
    result, _ = _run(upscaler, request)
    assert [p.name for p in result.done] == ["a.png"]
    assert [(p.name, "is a file" in why) for p, why in result.failed] == [("c.png", True)]


def test_skip_existing_removes_only_our_stale_temporaries(nearest_descriptor, tmp_path):
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(dead.stdout)
    src = _plain(tmp_path / "in", {"a.png": 0})
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".a_nearest_x4.png.{pid}-0123abcd.part"
    live = out / f".a_nearest_x4.png.{os.getpid()}-0123abcd.part"
    other = out / f".notes.png.{pid}-0123abcd.part"
    foreign = out / "a_nearest_x4.png.part"
    for path in (stale, live, other, foreign):
        path.write_bytes(b"half")
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    result, _ = _run(upscaler, BatchRequest(input_dir=src, output_dir=out, skip_existing=True))
    assert [p.name for p in result.done] == ["a.png"]
    assert not stale.exists()
    assert live.exists() and other.exists() and foreign.exists()


def test_two_batches_into_one_folder_never_replace_each_other(nearest_descriptor, tmp_path):
    """Issue 22.2: both plan before either writes; each output is written by one batch."""
    src = tmp_path / "in"
    src.mkdir()
    for index in range(2):
        Image.fromarray(rgb_noise(12, 10, seed=index)).save(src / f"p{index}.png")
    out = tmp_path / "out"
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    runs = [run_batch(upscaler, BatchRequest(input_dir=src, output_dir=out), CancelToken())]
    runs.append(run_batch(upscaler, BatchRequest(input_dir=src, output_dir=out), CancelToken()))
    last: list[object] = [None, None]
    pending = {0, 1}
    while pending:  # lockstep: one event of each batch in turn
        for index in sorted(pending):
            try:
                last[index] = next(runs[index])
            except StopIteration:
                pending.discard(index)
    results = [event.result for event in last]
    assert sum(len(r.done) for r in results) == 2
    failures = [reason for r in results for _, reason in r.failed]
    assert len(failures) == 2 and all("already exists" in f for f in failures), failures
    assert sorted(p.name for p in out.iterdir()) == ["p0_nearest_x4.png", "p1_nearest_x4.png"]


def test_fifos_and_links_to_devices_are_left_aside_unopened(
    nearest_descriptor, tmp_path, monkeypatch
):
    # Issue 22 item 4: a link to /dev/zero was read until the machine ran out of memory, a
    # FIFO blocked the batch for ever. The check of ``mfagan upscale`` leaves them aside.
    src = _plain(tmp_path / "in", {"a.png": 0})
    special = special_files(src)
    forbid_opening(monkeypatch, list(special.values()))
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    request = BatchRequest(input_dir=src, output_dir=tmp_path / "out")
    assert request.plan("nearest", 4).outputs == [tmp_path / "out" / "a_nearest_x4.png"]
    result, _ = _run(upscaler, request)
    assert [p.name for p in result.done] == ["a.png"] and result.failed == []
    reasons = {p.name: why for p, why in result.ignored}
    assert set(reasons) == {p.name for p in special.values()}
    assert "FIFO (named pipe), not a regular file" in reasons["fifo.png"]
    assert "character device (/dev/zero), not a regular file" in reasons["zero.png"]
    assert "character device (/dev/urandom)" in reasons["urandom.png"]
    assert "loop" in reasons["loop.png"] and "missing" in reasons["broken.png"]
