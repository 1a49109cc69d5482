"""The teacher cache: computed once, keyed by crop/seed/config, features where asked."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from engine.distill.config import DataConfig, DegradationConfig
from engine.distill.data import load_rgb, plan_crops, scan_images
from engine.distill.degradation import degrade
from engine.distill.teacher_cache import TeacherCache, run_with_features
from engine.distill.teacher_net import load_teacher
from engine.events import CancelToken, Finished, Progress


def _pool(tiny_root: Path):
    images = next(
        e.result for e in scan_images([tiny_root / "photos_a"], 32) if isinstance(e, Finished)
    )
    return plan_crops(images, DataConfig(hr_crop=32, crops_per_image=2, val_fraction=0.5), seed=0)


def test_build_once_then_load_what_the_teacher_computes(tiny_root: Path, tmp_path: Path):
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    crops = _pool(tiny_root).train
    cache = TeacherCache(
        root=tmp_path, degradation=DegradationConfig(), feature_blocks=(1,), teacher_runtime="torch"
    )
    events = list(cache.build(crops, teacher, cancel=CancelToken()))
    assert events[-1] == Progress(stage="teacher cache", done=2, total=2)
    assert cache.missing(crops) == []
    assert list(cache.build(crops, teacher, cancel=CancelToken())) == [
        Progress(stage="teacher cache", done=0, total=0)
    ]
    sample = cache.load(crops[0])
    hr = load_rgb(crops[0].image.path)[
        crops[0].top : crops[0].top + 32, crops[0].left : crops[0].left + 32
    ]
    lr = degrade(hr, DegradationConfig(), crops[0].seed)
    assert torch.equal(sample.lr, torch.from_numpy(lr).permute(2, 0, 1).float() / 255)
    assert np.abs(sample.hr.permute(1, 2, 0).numpy() - hr).max() <= 0.5 / 255 + 1e-6
    output, feats = run_with_features(teacher, sample.lr[None], (1,))
    assert torch.allclose(sample.teacher, output[0], atol=2e-3)  # float16 storage
    assert sample.feats[1].shape == (8, 8, 8)
    assert torch.allclose(sample.feats[1], feats[1][0], atol=5e-3)


def test_key_changes_with_seed_degradation_and_features(tiny_root: Path, tmp_path: Path):
    crop = _pool(tiny_root).train[0]
    base = TeacherCache(root=tmp_path, degradation=DegradationConfig())
    paths = {
        base.path(crop),
        base.path(dataclasses.replace(crop, seed=crop.seed + 1)),
        dataclasses.replace(base, degradation=DegradationConfig(jpeg_prob=0.0)).path(crop),
        dataclasses.replace(base, feature_blocks=(0,)).path(crop),
    }
    assert len(paths) == 4


def test_ranks_share_the_work_by_image(tiny_root: Path, tmp_path: Path):
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    pool = _pool(tiny_root)
    crops = (*pool.train, *pool.val)
    cache = TeacherCache(root=tmp_path, degradation=DegradationConfig())
    for rank in (0, 1):
        list(cache.build(crops, teacher, cancel=CancelToken(), rank=rank, world=2))
    assert cache.missing(crops) == []


def test_in_context_the_teacher_sees_the_whole_degraded_photo(tiny_root: Path, tmp_path: Path):
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    images = next(
        e.result for e in scan_images([tiny_root / "photos_a"], 32) if isinstance(e, Finished)
    )
    config = DataConfig(
        hr_crop=32,
        crops_per_image=4,
        val_fraction=0.5,
        teacher_context=16,
        degradations_per_image=2,
    )
    crops = plan_crops(images, config, seed=0).train
    assert {c.window for c in crops} == {
        (0, 0, crops[0].image.height // 4 * 4, crops[0].image.width // 4 * 4)
    }
    cache = TeacherCache(
        root=tmp_path, degradation=DegradationConfig(), feature_blocks=(1,), teacher_runtime="torch"
    )
    events = list(cache.build(crops, teacher, cancel=CancelToken()))
    assert events[-1] == Progress(stage="teacher cache", done=4, total=4)
    photo = load_rgb(crops[0].image.path)
    for crop in crops:
        top, left, height, width = crop.window
        lr = degrade(photo[top : top + height, left : left + width], DegradationConfig(), crop.seed)
        whole = torch.from_numpy(lr).permute(2, 0, 1)[None].float() / 255
        output, feats = run_with_features(teacher, whole, (1,))
        y, x, side = crop.top // 4, crop.left // 4, crop.size // 4
        sample = cache.load(crop)
        assert torch.equal(sample.lr, whole[0, :, y : y + side, x : x + side])
        expected = output[0, :, crop.top : crop.top + 32, crop.left : crop.left + 32]
        assert torch.allclose(sample.teacher, expected, atol=2e-3)
        assert torch.allclose(
            sample.feats[1], feats[1][0, :, y : y + side, x : x + side], atol=5e-3
        )
        hr = photo[crop.top : crop.top + 32, crop.left : crop.left + 32]
        assert np.abs(sample.hr.permute(1, 2, 0).numpy() - hr).max() <= 0.5 / 255 + 1e-6
        # In context, the teacher draws something else than on the crop alone.
        alone, _ = run_with_features(teacher, sample.lr[None], ())
        assert not torch.allclose(alone[0], expected, atol=2e-3)


def test_the_window_is_part_of_the_key(tiny_root: Path, tmp_path: Path):
    crop = _pool(tiny_root).train[0]
    cache = TeacherCache(root=tmp_path, degradation=DegradationConfig())
    framed = dataclasses.replace(crop, window=(0, 0, 64, 64))
    assert cache.path(crop) != cache.path(framed)
    assert cache.path(framed) != cache.path(dataclasses.replace(crop, window=(0, 0, 64, 68)))
