"""Issue 19: a file where a folder of the teacher cache should be ends ``mfagan distill``
with one line naming it (exit 1), not a NotADirectoryError traceback, and leaves no empty
run folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.cli import main


def _distill(tiny_root: Path, out: Path) -> int:
    args = ["distill", "--no-register", "--config", str(tiny_root / "tiny.toml"), "--quiet"]
    return main([*args, "--steps", "1", "--out", str(out)])


@pytest.mark.parametrize("where", ["distill", "runtimes"])
def test_a_file_in_the_teacher_cache_is_one_line(
    where: str, tiny_root: Path, tmp_path: Path, monkeypatch, capsys
):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(cache))
    if where == "distill":
        blocked, reason = cache / "distill", f"{cache / 'distill'} is a file"
    else:  # deeper: the teacher's own folder is there, a file where its runtimes go
        assert _distill(tiny_root, tmp_path / "first") == 0
        (teacher,) = (cache / "distill").iterdir()
        shutil.rmtree(teacher)  # every entry rebuilt, as a new teacher would be
        blocked, reason = teacher / "runtimes", "it is a file, not a folder"
        capsys.readouterr()
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("not a folder")
    out = tmp_path / "run"
    assert _distill(tiny_root, out) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and len(error.splitlines()) == 1
    assert str(blocked) in error and reason in error and "MFAGAN_CACHE_DIR" in error
    assert blocked.read_text() == "not a folder" and not out.exists()
