"""Issue 19: the NAS commands' run folders (``supernet train --out``, ``search --finetune``'s
run folder, given or not) that cannot be made are refused in one line before any work."""

from __future__ import annotations

import os

import pytest

import engine.nas.search
from engine.cli import main
from engine.paths import data_dir


def test_supernet_train_into_a_name_too_long_is_refused(tiny_supernet_toml, tmp_path, capsys):
    out = tmp_path / ("r" * 300)
    args = ["supernet", "train", "--config", str(tiny_supernet_toml), "--steps", "2", "--quiet"]
    assert main([*args, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --out: ") and "name too long" in error
    assert len(error.splitlines()) == 1 and out.name not in os.listdir(tmp_path)


@pytest.mark.parametrize("case", ["default folder below a file", "given name too long"])
def test_search_finetune_run_folder_is_checked_before_the_search(
    case, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(engine.nas.search, "run_search", lambda *a: pytest.fail("searched"))
    photos = tmp_path / "photos"
    photos.mkdir()
    args = ["search", "--budget-ms", "5", "--finetune", "2", "--data", str(photos), "--quiet"]
    if case == "default folder below a file":
        blocked = data_dir() / "nas"
        blocked.write_text("not a folder")
        expected = f"({blocked} is a file, not a folder)"
    else:
        blocked = tmp_path / ("r" * 300)
        args += ["--finetune-out", str(blocked)]
        expected = "(name too long for the file system: 300 bytes, at most 255)"
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --finetune-out: cannot create the folder ")
    assert error.endswith(f"{expected}\n") and len(error.splitlines()) == 1
    assert not (data_dir() / "models").exists()


def test_search_finetune_into_a_models_file_is_refused(tmp_path, monkeypatch, capsys):
    """The pick is registered after minutes of search and fine-tune: checked first."""
    monkeypatch.setattr(engine.nas.search, "run_search", lambda *a: pytest.fail("searched"))
    models = data_dir() / "models"
    models.write_text("not a folder")
    args = ["search", "--budget-ms", "5", "--finetune", "2", "--data", str(tmp_path), "--quiet"]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: the models folder: ") and f"{models} is a file" in error
    assert models.read_text() == "not a folder"
