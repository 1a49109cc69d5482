"""Bad input to ``mfagan export``: one clear line and exit code 2, nothing written."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from engine.cli import main


def _export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["export", "--quiet", *args])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "onnx,coreml"], "unknown export format 'coreml'"),
        (["--format", "onnx", "--model", "no-such-model"], "unknown model 'no-such-model'"),
        (["--format", "onnx", "--size", "33"], "--size 33 is not a multiple of 2"),
        (["--format", "onnx", "--device", "nokia-3310"], "no phone profile 'nokia-3310'"),
        (["--format", "onnx-int8", "--calibration", "missing"], "calibration folder not found"),
        (["--format", "onnx-int8", "--keep-float", "middle"], "unknown part 'middle'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str, args, message
) -> None:
    full = ["--model", tiny_model, *args] if "--model" not in args else args
    code, err = _export(capsys, *full, "--out", str(tmp_path / "b"))
    assert code == 2, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_model_file_that_cannot_load_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 64)
    code, err = _export(
        capsys, "--model", str(broken), "--format", "onnx", "--out", str(tmp_path / "b")
    )
    assert code == 2 and str(broken) in err and err.count("\n") == 1


def test_out_folder_with_other_files_gets_the_bundle_beside_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "thesis.docx").write_text("precious")
    code, err = _export(
        capsys,
        "--model",
        tiny_model,
        "--format",
        "onnx",
        "--teacher",
        "none",
        "--size",
        "32",
        "--out",
        str(tmp_path / "b"),
    )
    assert code == 0, err
    assert (tmp_path / "b" / "thesis.docx").read_text() == "precious"
    assert (tmp_path / "b" / "tiny-32.onnx").is_file()


def test_foreign_file_with_a_bundle_name_is_refused_not_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "README.md").write_text("my own readme")
    code, err = _export(
        capsys, "--model", tiny_model, "--format", "onnx", "--out", str(tmp_path / "b")
    )
    assert code == 2 and "README.md: exists and was not written by mfagan export" in err
    assert err.count("\n") == 1
    assert (tmp_path / "b" / "README.md").read_text() == "my own readme"
    assert not [p.name for p in tmp_path.iterdir() if ".part-" in p.name]


def _read_only_part(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """mkdir of the bundle's hidden .part folder fails as on a read-only mount (faked:
    permission bits do not stop root)."""
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if Path(path).parent == folder and ".part-" in Path(path).name:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)


def test_a_read_only_folder_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_model: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _read_only_part(monkeypatch, tmp_path)
    out = tmp_path / "b"
    code, err = _export(capsys, "--model", tiny_model, "--format", "onnx", "--out", str(out))
    assert code == 1, err
    assert err == f"error: {out}: cannot write the bundle (read-only file system)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no .part, no bundle


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_a_folder_without_write_permission_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, err = _export(
            capsys, "--model", tiny_model, "--format", "onnx", "--out", str(locked / "b")
        )
        leftovers = list(locked.iterdir())
    finally:
        locked.chmod(0o700)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{locked / 'b'}: cannot write the bundle (permission denied)" in err
    assert leftovers == []


def test_an_out_name_too_long_for_its_part_folder_is_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str
) -> None:
    out = tmp_path / ("b" * 240)  # fits the file system; ".<name>.part-<pid>-<time>" does not
    code, err = _export(capsys, "--model", tiny_model, "--format", "onnx", "--out", str(out))
    assert code == 2, err
    assert err.startswith(f"error: {out}: name too long for the file system: 240 bytes")
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
