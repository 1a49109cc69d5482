"""Re-exporting into a folder replaces only the bundle's own files (issue 22 item 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.distill.export import save_student
from engine.export import bundle
from engine.export.install import MANIFEST_NAME, remove_stale_work, work_folder
from engine.models.mfa import MFAGenerator

from .conftest import TINY


def _export(capsys: pytest.CaptureFixture[str], model: str, out: Path, fmt: str) -> tuple[int, str]:
    code = main(
        [
            "export",
            "--quiet",
            "--model",
            model,
            "--format",
            fmt,
            "--teacher",
            "none",
            "--size",
            "32",
            "--out",
            str(out),
        ]
    )
    return code, capsys.readouterr().err


def _user_files(folder: Path) -> dict[str, bytes]:
    files = {"notes.txt": b"my notes\n", "myphoto.png": b"\x89PNG not really"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def test_reexport_keeps_the_users_files_and_refuses_the_model_inside(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The issue's scenario: an earlier bundle, notes.txt, myphoto.png and the model itself."""
    out = tmp_path / "DIR"
    out.mkdir()
    model = out / "mymodel.safetensors"
    save_student(model, MFAGenerator(TINY, seed=3))
    model_bytes = model.read_bytes()
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes(model_bytes)
    code, err = _export(capsys, str(outside), out, "torchscript")
    assert code == 0, err
    mine = _user_files(out)

    code, err = _export(capsys, str(model), out, "onnx")
    assert code == 2, err
    assert "holds the model being exported" in err and err.count("\n") == 1
    assert model.read_bytes() == model_bytes

    code, err = _export(capsys, str(outside), out, "onnx")
    assert code == 0, err
    for name, data in mine.items():
        assert (out / name).read_bytes() == data
    assert model.read_bytes() == model_bytes
    names = {p.name for p in out.iterdir()}
    assert "elsewhere-32.pt" not in names  # the earlier bundle's own file is replaced
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert set(manifest["files"]) == {
        "elsewhere-32.onnx",
        "elsewhere-dynamic.onnx",
        bundle.CARD_NAME,
        bundle.README_NAME,
        MANIFEST_NAME,
    }
    assert names == set(manifest["files"]) | set(mine) | {model.name}
    assert not [p.name for p in tmp_path.iterdir() if ".part-" in p.name or ".old-" in p.name]


def test_a_bundle_without_manifest_owns_only_what_its_card_lists(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str
) -> None:
    out = tmp_path / "b"
    assert _export(capsys, tiny_model, out, "torchscript")[0] == 0
    (out / MANIFEST_NAME).unlink()  # as written before manifests existed
    mine = _user_files(out)
    assert _export(capsys, tiny_model, out, "onnx")[0] == 0
    names = {p.name for p in out.iterdir()}
    assert "tiny-32.pt" not in names and "tiny-32.onnx" in names
    assert all((out / n).read_bytes() == d for n, d in mine.items())


def test_rerun_removes_the_part_folders_of_a_killed_export_only(tmp_path: Path) -> None:
    out = tmp_path / "b"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale = tmp_path / f".b.part-{dead.stdout.strip()}-20260101000000000000"
    live = work_folder(out)  # this process: an export running right now
    other = tmp_path / ".c.part-1-20260101000000000000"  # another bundle's
    foreign = tmp_path / ".b.part-mine"  # not a name export makes
    for folder in (stale, live, other, foreign):
        folder.mkdir()
        (folder / "x.onnx").write_bytes(b"12345")
    assert remove_stale_work(out) == [stale]
    assert live.is_dir() and other.is_dir() and foreign.is_dir()
