"""The teacher cache's runner: OpenVINO (checked export with features) or PyTorch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.distill import teacher_runner
from engine.distill.config import DataConfig, DegradationConfig
from engine.distill.data import plan_crops, scan_images
from engine.distill.teacher_cache import TeacherCache
from engine.distill.teacher_net import load_teacher
from engine.distill.teacher_runner import feature_onnx_path, make_runner, run_with_features
from engine.events import Cancelled, CancelToken, Finished
from engine.inference import openvino_backend as ovb

HAS_BF16 = ovb.supports("bf16")


def _pool(tiny_root: Path):
    images = next(
        e.result for e in scan_images([tiny_root / "photos_a"], 32) if isinstance(e, Finished)
    )
    return plan_crops(images, DataConfig(hr_crop=32, crops_per_image=2, val_fraction=0.5), seed=0)


def _x() -> np.ndarray:
    return np.random.default_rng(1).random((2, 3, 12, 20), dtype=np.float32)


def test_openvino_fp32_gives_the_teachers_image_and_features(tiny_root: Path, monkeypatch):
    monkeypatch.setenv(ovb.DISABLE_BF16_ENV, "1")
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    runner = make_runner(teacher, (0, 1), "openvino")
    assert runner.label == "openvino-fp32"
    got = runner.run(_x(), CancelToken())
    image, feats = run_with_features(teacher, torch.from_numpy(_x()), (0, 1))
    assert torch.allclose(got.image, image, atol=1 / 255)
    assert set(got.feats) == {0, 1}
    for block in (0, 1):
        assert torch.allclose(got.feats[block], feats[block], atol=1e-3)
    assert feature_onnx_path(teacher, (0, 1)) != feature_onnx_path(teacher, (1,))


@pytest.mark.parametrize(
    ("openvino_s", "expected"),
    [(0.70, "openvino-fp32"), (0.97, "torch-fp32"), (1.30, "torch-fp32")],
)
def test_auto_without_bf16_keeps_the_faster_of_pytorch_and_openvino_fp32(
    tiny_root: Path, monkeypatch, openvino_s: float, expected: str
):
    # OpenVINO fp32 ran the x4plus teacher 1.25x faster than PyTorch on an AVX2-only EPYC;
    # elsewhere it may not: auto times both and never picks the slower (5 % margin).
    monkeypatch.setenv(ovb.DISABLE_BF16_ENV, "1")
    timed = {"torch-fp32": 1.0, "openvino-fp32": openvino_s}
    monkeypatch.setattr(teacher_runner, "probe_seconds", lambda *runners: timed)
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    runner = make_runner(teacher, (1,))
    assert runner.label == expected
    assert runner.info["probe_s"] == timed
    got = runner.run(_x(), CancelToken())
    image, _ = run_with_features(teacher, torch.from_numpy(_x()), (1,))
    assert torch.allclose(got.image, image, atol=1 / 255)


def test_the_probe_times_both_runtimes_for_real(tiny_root: Path, monkeypatch):
    monkeypatch.setenv(ovb.DISABLE_BF16_ENV, "1")
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    torch_runner = make_runner(teacher, (1,), "torch")
    openvino_runner = make_runner(teacher, (1,), "openvino")
    timed = teacher_runner.probe_seconds(torch_runner, openvino_runner)
    assert set(timed) == {"torch-fp32", "openvino-fp32"}
    assert all(seconds > 0 for seconds in timed.values())


def test_a_cancelled_token_stops_both_runtimes(tiny_root: Path, monkeypatch):
    monkeypatch.setenv(ovb.DISABLE_BF16_ENV, "1")
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    token = CancelToken()
    token.cancel()
    for runtime in ("openvino", "torch"):
        with pytest.raises(Cancelled):
            make_runner(teacher, (1,), runtime).run(_x(), token)


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has no native bf16 (no AVX512-BF16/AMX)")
def test_bf16_cache_records_its_runtime_and_psnr(tiny_root: Path, tmp_path: Path):
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    crops = _pool(tiny_root).train
    cache = TeacherCache(root=tmp_path, degradation=DegradationConfig(), feature_blocks=(1,))
    list(cache.build(crops, teacher, cancel=CancelToken()))
    info = cache.runtime_info()
    assert list(info) == ["openvino-bf16"]
    assert info["openvino-bf16"]["bf16_psnr_vs_fp32_db"] >= ovb.MIN_PSNR_DB
    sample = cache.load(crops[0])
    output, _ = run_with_features(teacher, sample.lr[None], (1,))
    assert ovb.psnr(output[0].numpy(), sample.teacher.numpy()) >= ovb.MIN_PSNR_DB


@pytest.mark.parametrize("damage", ["a folder", "a damaged file"])
def test_a_damaged_cached_export_is_rebuilt(
    damage: str, tiny_root: Path, tmp_path: Path, monkeypatch
):
    """Issue 19, as for the student's export: a folder in the export's place is moved aside
    (not known to be ours), a file OpenVINO cannot read is exported again."""
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(ovb.DISABLE_BF16_ENV, "1")
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    path = feature_onnx_path(teacher, (1,))
    path.parent.mkdir(parents=True)
    if damage == "a folder":
        path.mkdir()
        (path / "kept.txt").write_text("moved, not deleted")
    else:
        path.write_bytes(b"not an onnx file")
    runner = make_runner(teacher, (1,), "openvino")
    assert runner.label == "openvino-fp32"
    image, _ = run_with_features(teacher, torch.from_numpy(_x()), (1,))
    assert torch.allclose(runner.run(_x(), CancelToken()).image, image, atol=1 / 255)
    assert path.is_file() and teacher_runner._readable(path)
    aside = [p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.damaged-")]
    if damage == "a folder":
        assert (aside[0] / "kept.txt").read_text() == "moved, not deleted"
    else:
        assert aside == []
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_a_cache_the_teachers_export_cannot_go_in_gives_no_student_advice(
    tiny_root: Path, tmp_path: Path, monkeypatch
):
    """The feature export's failure names the folder and how to move the cache; not the
    student's ``--backend torch``, which does nothing for the teacher."""
    import errno
    import os

    from engine.errors import StorageError

    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    teacher = load_teacher(str(tiny_root / "teacher.safetensors"))
    path = feature_onnx_path(teacher, (1,))
    real_mkdir = os.mkdir

    def read_only_mkdir(folder, *args, **kwargs):
        if Path(folder) == path.parent:  # faked: permission bits do not stop root
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(folder))
        return real_mkdir(folder, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", read_only_mkdir)
    with pytest.raises(StorageError) as caught:
        teacher_runner.ensure_feature_onnx(teacher, (1,))
    assert str(caught.value) == (
        f"{path.parent}: cannot write the ONNX export {path.name} in the cache "
        "(read-only file system); MFAGAN_CACHE_DIR moves the cache"
    )
