"""Bad input to ``mfagan export``: one clear line and exit code 2, nothing written."""

from __future__ import annotations

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


def test_out_folder_with_other_files_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "thesis.docx").write_text("precious")
    code, err = _export(
        capsys, "--model", tiny_model, "--format", "onnx", "--out", str(tmp_path / "b")
    )
    assert code == 2 and "not empty" in err
    assert (tmp_path / "b" / "thesis.docx").read_text() == "precious"


def test_tflite_without_litert_says_what_to_install(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_model: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.export import tflite

    monkeypatch.setattr(tflite, "missing_reason", lambda: "TFLite export needs litert-torch")
    code, err = _export(
        capsys, "--model", tiny_model, "--format", "tflite", "--out", str(tmp_path / "b")
    )
    assert code == 2 and err.strip() == "error: TFLite export needs litert-torch"


def test_export_prints_where_and_what(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model: str
) -> None:
    code = main(
        ["export", "--quiet", "--model", tiny_model, "-f", "onnx", "-f", "onnx-int8",
         "--size", "32", "--teacher", "bicubic", "--calibration-count", "4",
         "--out", str(tmp_path / "b")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "3 files" in out and "INT8 loss vs teacher" in out
