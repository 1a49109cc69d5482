"""Crop pool: split by file content, reproducible crops inside their images."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image
from rich.console import Console
from special_files import forbid_opening, special_files

from engine.console import ConsoleRenderer
from engine.distill.config import DataConfig
from engine.distill.data import SourceImage, plan_crops, scan_images, scan_photos, split_images
from engine.errors import UsageError
from engine.events import Finished, Notice


def _scan(dirs: list[Path], min_side: int) -> tuple[list[SourceImage], list[str]]:
    notices, images = [], None
    for event in scan_images(dirs, min_side):
        if isinstance(event, Notice):
            notices.append(event.message)
        elif isinstance(event, Finished):
            images = event.result
    return images, notices


def _fake_images(count: int) -> list[SourceImage]:
    return [
        SourceImage(
            path=Path(f"{i}.png"),
            digest=f"{i * 2654435761 % 2**32:08x}" + "0" * 56,
            width=200,
            height=150,
        )
        for i in range(count)
    ]


def test_scan_skips_small_images_and_duplicates(tiny_root: Path, tmp_path: Path):
    folder = tmp_path / "photos"
    shutil.copytree(tiny_root / "photos_a", folder)
    shutil.copy(folder / "chelsea.png", folder / "copy_of_chelsea.png")
    Image.new("RGB", (40, 20)).save(folder / "small.png")
    images, notices = _scan([folder], min_side=32)
    assert sorted(im.path.name for im in images) == ["astronaut.png", "chelsea.png"]
    assert (images[0].width, images[0].height) == (128, 96)
    assert any("1 smaller than 32 px and 1 duplicate(s)" in n for n in notices)


def _damaged_photos(folder: Path) -> None:
    """A JPEG cut short (its header is whole: only decoding finds it) and an AVIF named .jpg."""
    whole = folder / "astronaut.png"
    with Image.open(whole) as image:
        image.convert("RGB").save(folder / "cut.jpg", quality=90)
    data = (folder / "cut.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    (folder / "avif.jpg").write_bytes(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00" + bytes(200))


def test_scan_decodes_every_photo_and_lists_the_bad_ones_once(tiny_root: Path, tmp_path: Path):
    folder = tmp_path / "photos"
    shutil.copytree(tiny_root / "photos_a", folder)
    _damaged_photos(folder)
    events = list(scan_photos([folder], 32))
    scan = events[-1].result
    assert sorted(im.path.name for im in scan.good) == ["astronaut.png", "chelsea.png"]
    reasons = dict((p.name, why) for p, why in scan.bad)
    assert set(reasons) == {"cut.jpg", "avif.jpg"}
    assert "truncated" in reasons["cut.jpg"] and "AVIF" in reasons["avif.jpg"]
    notices = [e.message for e in events if isinstance(e, Notice)]
    for name in reasons:
        assert sum(name in n for n in notices) == 1
    assert any("left out 2 that cannot be read" in n for n in notices)


def test_distill_trains_on_the_good_photos_of_a_folder_with_damaged_ones(
    tiny_root: Path, tmp_path: Path
):
    from engine.distill.config import load_config, with_overrides
    from engine.distill.trainer import DistillRequest, distill

    root = tmp_path / "root"
    shutil.copytree(tiny_root, root)
    _damaged_photos(root / "photos_a")
    config = with_overrides(
        load_config(root / "tiny.toml"), {"schedule.steps": 2, "schedule.val_every": 2}
    )
    events = list(distill(DistillRequest(config=config, out_dir=tmp_path / "run")))
    assert isinstance(events[-1], Finished)
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert sum("cut.jpg" in n for n in notices) == 1


def test_split_by_content_never_mixes_and_keeps_both_sides():
    images = _fake_images(50)
    train, val = split_images(images, 0.2)
    assert {im.digest for im in train}.isdisjoint(im.digest for im in val)
    assert len(train) + len(val) == 50 and 3 <= len(val) <= 20
    # Adding images never moves old ones to the other side.
    _, val2 = split_images([*images, *_fake_images(80)[50:]], 0.2)
    assert {im.digest for im in val} <= {im.digest for im in val2}
    assert split_images(images[:2], 0.01)[1]  # at least one validation image
    with pytest.raises(UsageError, match="at least 2"):
        split_images(images[:1], 0.2)


def test_crops_are_reproducible_inside_the_image_and_centred_for_validation():
    config = DataConfig(hr_crop=64, crops_per_image=5, val_fraction=0.3, val_crops_per_image=2)
    pool = plan_crops(_fake_images(10), config, seed=0)
    assert pool == plan_crops(_fake_images(10), config, seed=0)
    assert pool != plan_crops(_fake_images(10), config, seed=1)
    for crop in (*pool.train, *pool.val):
        assert 0 <= crop.top <= 150 - 64 and 0 <= crop.left <= 200 - 64
    first_val = pool.val[0]
    assert (first_val.top, first_val.left) == ((150 - 64) // 2, (200 - 64) // 2)
    assert len({c.seed for c in pool.train}) == len(pool.train)


def test_crops_in_context_share_draws_and_windows_on_the_scale_grid():
    plain = DataConfig(hr_crop=64, crops_per_image=6, val_fraction=0.3)
    framed = DataConfig(
        hr_crop=64, crops_per_image=6, val_fraction=0.3, teacher_context=8, degradations_per_image=2
    )
    images = _fake_images(10)
    before, after = plan_crops(images, plain, seed=0), plan_crops(images, framed, seed=0)
    assert all(c.window is None for c in before.train)
    for old, new in zip(before.train, after.train, strict=True):
        # Same draws of position, moved onto the x4 grid; the image's shared draw as seed.
        assert (new.top, new.left) == (old.top - old.top % 4, old.left - old.left % 4)
        top, left, height, width = new.window
        assert top % 4 == left % 4 == height % 4 == width % 4 == 0
        assert top <= new.top and new.top + 64 <= top + height <= 148
        assert left <= new.left and new.left + 64 <= left + width <= 200
    for image in images:
        crops = [c for c in after.train if c.image == image]
        if crops:
            assert len({c.seed for c in crops}) == 2
            # Three crops per draw cost more in windows of (64 + 2 * 32)² than the whole photo.
            assert {c.window for c in crops} == {(0, 0, 148, 200)}


def test_a_lone_crop_gets_its_own_window_clipped_to_the_photo():
    config = DataConfig(
        hr_crop=32, crops_per_image=1, val_fraction=0.3, teacher_context=4, degradations_per_image=1
    )
    for crop in plan_crops(_fake_images(10), config, seed=0).train:
        top, left, height, width = crop.window
        assert (top, left) == (max(0, crop.top - 16), max(0, crop.left - 16))
        assert top + height == min(148, crop.top + 48) and left + width == min(200, crop.left + 48)


def test_quiet_still_prints_each_photo_left_out_and_why(tiny_root: Path, tmp_path: Path):
    # Issue 22 item 12: `distill --quiet` skipped a damaged photo without a word.
    folder = tmp_path / "photos"
    shutil.copytree(tiny_root / "photos_a", folder)
    _damaged_photos(folder)
    lines = {}
    for quiet, silent in ((True, False), (False, True)):
        terminal = io.StringIO()
        renderer = ConsoleRenderer(Console(file=terminal, width=500), quiet=quiet, silent=silent)
        scan = renderer.consume(scan_photos([folder], 32))
        lines[silent] = terminal.getvalue().splitlines()
    reasons = dict(scan.bad)
    assert sorted(p.name for p in reasons) == ["avif.jpg", "cut.jpg"]
    assert sorted(lines[False]) == sorted(f"left out {p}: {why}" for p, why in reasons.items())
    assert lines[True] == []  # the other ranks of a multi-process run say nothing


def test_scan_leaves_fifos_and_device_links_out_unopened(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Hashing a link to /dev/zero never ended; a FIFO blocked the scan for ever.
    folder = tmp_path / "photos"
    shutil.copytree(tiny_root / "photos_a", folder)
    special = special_files(folder)
    forbid_opening(monkeypatch, list(special.values()))
    scan = list(scan_photos([folder], 32))[-1].result
    assert sorted(im.path.name for im in scan.good) == ["astronaut.png", "chelsea.png"]
    reasons = {p.name: why for p, why in scan.bad}
    assert set(reasons) == {p.name for p in special.values()}
    assert "FIFO (named pipe), not a regular file" in reasons["fifo.png"]
    assert "(/dev/zero), not a regular file" in reasons["zero.png"]
