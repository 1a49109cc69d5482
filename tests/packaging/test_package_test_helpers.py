"""The pieces of ``make package-test`` that need no build (packaging/package_test.py)."""

from __future__ import annotations

import tarfile

import pytest


@pytest.fixture
def pt(packaging_module):
    return packaging_module("package_test.py")


def test_clean_env_is_like_env_i(pt, tmp_path):
    env = pt.clean_env(tmp_path)
    assert set(env) == {"PATH", "HOME", "LANG", "TMPDIR"}
    assert ".venv" not in env["PATH"] and env["HOME"] == str(tmp_path)


def _archive(tmp_path):
    folder = tmp_path / "src" / "mfagan-studio"
    folder.mkdir(parents=True)
    (folder / "mfagan").write_text("#!/bin/sh\n")
    archive = tmp_path / "mfagan-studio-0.1.0-linux-x86_64.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def test_verify_archive_and_unpack(pt, tmp_path):
    import hashlib

    archive = _archive(tmp_path)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (tmp_path / f"{archive.name}.sha256").write_text(f"{digest}  {archive.name}\n")
    assert pt.verify_archive(archive) == digest
    app = pt.unpack(archive, tmp_path / "out")
    assert (app / "mfagan").is_file()


def test_verify_archive_refuses_a_changed_file(pt, tmp_path):
    archive = _archive(tmp_path)
    (tmp_path / f"{archive.name}.sha256").write_text(f"{'0' * 64}  {archive.name}\n")
    with pytest.raises(pt.CheckFailed, match="sha256"):
        pt.verify_archive(archive)


def test_every_check_is_listed_once(pt):
    names = [name for name, _ in pt.CHECKS]
    assert len(names) == len(set(names))
    assert {"--version", "models --json", "upscale = source", "GUI --screenshot"} <= set(names)


@pytest.mark.parametrize(
    ("name", "gpu"),
    [
        ("libcudnn.so.9", True),
        ("libcublasLt.so.12", True),
        ("libtorch_cuda.so", True),
        ("libonnxruntime_providers_cuda.so", True),
        ("onnxruntime_providers_tensorrt.dll", True),
        ("libonnxruntime_providers_shared.so", False),
        ("libicudata.so.73", False),  # Unicode data, not CUDA
        ("cudagraphs.py", False),
        ("libtorch_cpu.so", False),
    ],
)
def test_gpu_library_names(pt, name, gpu):
    assert bool(pt.GPU_LIBRARY.search(name)) is gpu
