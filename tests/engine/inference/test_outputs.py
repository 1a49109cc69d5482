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


def test_an_output_that_is_not_a_regular_file_is_refused_even_with_overwrite(tmp_path):
    """Issue 22.3: a FIFO, a link to a device or a link loop is never replaced."""
    import os

    from engine.inference.outputs import output_problem

    fifo = tmp_path / "f.png"
    os.mkfifo(fifo)
    null = tmp_path / "n.png"
    null.symlink_to(os.devnull)
    loop = tmp_path / "l.png"
    loop.symlink_to(loop)
    expected = {fifo: "FIFO", null: "character device", loop: "link loop"}
    for path, kind in expected.items():
        for overwrite in (True, False):
            problem = output_problem(path, overwrite=overwrite)
            assert problem is not None and kind in problem, (path, problem)


def test_cli_overwrite_onto_a_fifo_or_a_device_is_refused(astronaut_png, tmp_path, capsys):
    import os
    import stat

    from engine.cli import main

    fifo = tmp_path / "f.png"
    os.mkfifo(fifo)
    null = tmp_path / "n.png"
    null.symlink_to(os.devnull)
    for output in (fifo, null):
        args = ["upscale", str(astronaut_png), "-o", str(output), "-m", "bicubic", "--overwrite"]
        assert main([*args, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert str(output) in err and "only a regular file" in err and err.count("\n") == 1
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and null.is_symlink()
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_format_the_output_name_contradicts_is_a_problem(tmp_path):
    """Issue 22.8: the engine refuses JPEG bytes under a .png name before any work."""
    problem = output_problem(tmp_path / "x.png", format="jpg")
    assert problem == "the name says PNG, the format asked for is JPEG"
    for name, format in (("x.jpeg", "jpg"), ("x.TIF", "tiff"), ("x.out", "png"), ("x", "webp")):
        assert output_problem(tmp_path / name, format=format) is None, name
