from __future__ import annotations

import os

import pytest

from engine.errors import UsageError
from engine.files import folder_problem
from engine.inference.outputs import check_output, output_for, output_problem


def test_output_for_takes_a_trailing_slash_as_a_new_folder(tmp_path):
    source = tmp_path / "a.png"
    assert output_for(source, None, default_name="a_x4.png") == tmp_path / "a_x4.png"
    new = str(tmp_path / "newdir") + "/"
    assert output_for(source, new, default_name="a_x4.png") == tmp_path / "newdir" / "a_x4.png"
    assert output_for(source, str(tmp_path), default_name="n.png") == tmp_path / "n.png"
    assert output_for(source, str(tmp_path / "b.jpg"), default_name="n.png") == tmp_path / "b.jpg"


def test_links_to_an_input_are_the_input(tmp_path):
    source = tmp_path / "a.png"
    source.write_bytes(b"original")
    (tmp_path / "hard.png").hardlink_to(source)
    (tmp_path / "soft.png").symlink_to(source)
    for name in ("a.png", "hard.png", "soft.png"):
        problem = output_problem(tmp_path / name, inputs=[source], overwrite=True)
        assert problem is not None and "would replace" in problem
    assert output_problem(tmp_path / "new.png", inputs=[source]) is None


def test_a_read_only_file_system_is_named(tmp_path, monkeypatch):
    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda path: ReadOnly())
    problem = folder_problem(tmp_path / "new")
    assert problem is not None and "read-only" in problem
    with pytest.raises(UsageError, match="read-only"):
        check_output(tmp_path / "new" / "x.png")
    assert not (tmp_path / "new").exists()
