"""Issue 19, item 6: ``mfagan distill`` and ``mfagan supernet train`` into a run folder
that cannot take it (read-only, a file in the way, a full disk) end with one line naming
the folder and exit 2 (refused before any work) or 1 (failed mid-run), never a traceback."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import engine.files
from engine.cli import main


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Tiny nets run 10-50x slower with 2 OpenMP threads on a busy 2-core machine."""


def _command(kind: str, config: Path, out: Path) -> list[str]:
    if kind == "distill":
        head = ["distill", "--no-register", "--config", str(config)]
    else:
        head = ["supernet", "train", "--config", str(config)]
    return [*head, "--steps", "2", "--quiet", "--out", str(out)]


def _config(kind: str, tmp_path: Path, tiny_supernet_toml: Path) -> Path:
    return tmp_path / "tiny.toml" if kind == "distill" else tiny_supernet_toml


def _read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """``folder`` as on a read-only mount (faked: root writes through chmod): statvfs says
    so, and mkdir under it fails with EROFS as it would there."""
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if Path(path).is_relative_to(folder):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    real = engine.files._read_only
    monkeypatch.setattr(engine.files, "_read_only", lambda path: Path(path) == folder or real(path))


@pytest.mark.parametrize("kind", ["distill", "supernet"])
@pytest.mark.parametrize("case", ["read-only", "a file", "below a file"])
def test_an_unwritable_run_folder_is_refused_before_any_work(
    kind, case, tmp_path, tiny_supernet_toml, monkeypatch, capsys
):
    blocked = tmp_path / "blocked"
    if case == "read-only":
        blocked.mkdir()
        _read_only(monkeypatch, blocked)
        out, reason = blocked / "run", f"cannot write in {blocked} (read-only file system)"
    else:
        blocked.write_text("not a folder")
        out = blocked if case == "a file" else blocked / "run"
        reason = f"cannot create the folder {out} ({blocked} is a file, not a folder)"
    code = main(_command(kind, _config(kind, tmp_path, tiny_supernet_toml), out))
    assert (code, capsys.readouterr().err) == (2, f"error: --out: {reason}\n")


@pytest.mark.parametrize("kind", ["distill", "supernet"])
def test_a_full_disk_mid_run_is_one_line_and_exit_1(
    kind, tmp_path, tiny_supernet_toml, monkeypatch, capsys
):
    """ENOSPC faked on the atomic writes (checkpoints, pictures): no temporary is left."""

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    out = tmp_path / "run"
    code = main(_command(kind, _config(kind, tmp_path, tiny_supernet_toml), out))
    assert code == 1
    assert capsys.readouterr().err == f"error: {out}: cannot write (no space left on device)\n"
    assert not [p for p in out.rglob("*") if p.name.endswith(engine.files.TEMP_SUFFIX)]


@pytest.mark.parametrize("command", [["publish"], ["supernet", "publish"]])
def test_publish_into_a_file_is_refused_before_scoring(command, tmp_path, capsys):
    """--models-dir is checked before the run is read and scored (minutes), not at the end."""
    blocked = tmp_path / "models"
    blocked.write_text("not a folder")
    args = [*command, str(tmp_path / "run"), "--eval", str(tmp_path), "--quiet"]
    assert main([*args, "--models-dir", str(blocked)]) == 2
    reason = f"cannot create the folder {blocked} ({blocked} is a file, not a folder)"
    assert capsys.readouterr().err == f"error: --models-dir: {reason}\n"
