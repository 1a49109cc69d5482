from __future__ import annotations

import json

import pytest
from PIL import Image
from special_files import forbid_opening, special_files
from support import file_hash, rgb_noise

from engine.cli import main


def test_models_json_lists_the_registry(capsys):
    assert main(["models", "--json"]) == 0
    models = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert {"realesrgan-x4plus", "realesrgan-x4plus-anime", "mfagan", "bicubic"} <= set(models)
    assert sum(m["default"] for m in models.values()) == 1
    assert set(models["mfagan"]) >= {"name", "scale", "trained", "default", "architecture"}


def test_untrained_model_is_refused_with_a_clear_message(
    astronaut_png, tmp_path, capsys, monkeypatch, nearest_descriptor
):
    from dataclasses import replace

    from engine.models import registry

    untrained = replace(nearest_descriptor, name="fresh", trained=False)
    monkeypatch.setattr(registry, "get_model", lambda name: untrained)
    code = main(["upscale", str(astronaut_png), "-o", str(tmp_path / "o.png"), "-m", "fresh"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no trained weights" in err and err.count("\n") == 1
    assert not (tmp_path / "o.png").exists()


def test_upscale_with_bicubic_writes_the_output(astronaut_png, tmp_path, capsys):
    before = file_hash(astronaut_png)
    out = tmp_path / "big.jpg"
    code = main(
        [
            "upscale",
            str(astronaut_png),
            "-o",
            str(out),
            "--model",
            "bicubic",
            "--scale",
            "2",
            "--quiet",
        ]
    )
    assert code == 0
    assert str(out) in capsys.readouterr().out
    with Image.open(out) as image:
        assert (image.format, image.size) == ("JPEG", (160, 128))
    assert file_hash(astronaut_png) == before


def test_upscale_into_a_folder_uses_the_name_pattern(astronaut_png, tmp_path):
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    args = ["upscale", str(astronaut_png), "-o", str(out_dir), "-m", "bicubic", "--quiet"]
    assert main([*args, "--name", "{stem}-{scale}"]) == 0
    assert [p.name for p in out_dir.iterdir()] == ["astronaut-x4.png"]


def test_bad_input_is_one_line_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    assert main(["upscale", str(bad), "-o", str(tmp_path / "x.png"), "-m", "bicubic"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty.png" in err and "Traceback" not in err


def test_usage_errors_exit_2(astronaut_png, tmp_path, capsys):
    assert main(["upscale", str(astronaut_png), "--scale", "5"]) == 2
    assert main(["upscale", str(tmp_path / "missing.png")]) == 2
    assert main(["upscale", str(astronaut_png), "-m", "no-such-model"]) == 2
    assert "no-such-model" in capsys.readouterr().err


def test_batch_exit_code_reports_failures(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(rgb_noise(8, 8)).save(src / "ok.png")
    (src / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    code = main(["batch", str(src), "-o", str(tmp_path / "out"), "-m", "bicubic", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 upscaled, 0 skipped, 1 failed" in captured.out
    assert "bad.jpg" in captured.err
    assert (
        main(
            [
                "batch",
                str(src),
                "-o",
                str(tmp_path / "out"),
                "-m",
                "bicubic",
                "--skip-existing",
                "--quiet",
            ]
        )
        == 1
    )


def test_profile_json_has_the_cost_fields(capsys):
    assert main(["profile", "--model", "bicubic", "--size", "16", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == "bicubic"
    assert {"params", "macs", "memory_access_bytes", "peak_activation_bytes"} <= set(report)


def test_bench_refuses_a_readme_without_markers_before_measuring(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no bench section here\n")
    assert main(["bench", "--quick", "--readme", str(readme)]) == 2
    assert "bench:start" in capsys.readouterr().err
    assert main(["bench", "--quick", "--readme", str(tmp_path / "missing.md")]) == 2


def _readme_with_section(tmp_path):
    from engine.measure.bench_report import END_MARKER, START_MARKER

    readme = tmp_path / "docs" / "BENCH.md"
    readme.parent.mkdir()
    readme.write_text(f"# Bench\n{START_MARKER}\nold\n{END_MARKER}\n")
    return readme


def _no_bench(monkeypatch):
    """Fail the test if the bench starts (it takes 40 minutes)."""
    import engine.measure.bench

    def refuse(*args, **kwargs):
        raise AssertionError("the bench started before the README was checked")

    monkeypatch.setattr(engine.measure.bench, "run_bench", refuse)


@pytest.mark.parametrize("case", ["read-only file", "read-only folder"])
def test_bench_refuses_a_readme_it_cannot_write_before_measuring(
    case, tmp_path, capsys, monkeypatch
):
    import engine.files

    readme = _readme_with_section(tmp_path)
    _no_bench(monkeypatch)
    if case == "read-only file":
        readme.chmod(0o444)
        reason = "cannot write it (read-only file)"
    else:  # faked: permission bits do not stop root
        real = engine.files._read_only
        monkeypatch.setattr(
            engine.files, "_read_only", lambda path: path == readme.parent or real(path)
        )
        reason = f"cannot write in {readme.parent} (read-only file system)"
    assert main(["bench", "--quick", "--readme", str(readme)]) == 2
    assert capsys.readouterr().err == f"error: {readme}: {reason}\n"
    assert "old" in readme.read_text()


def test_bench_that_cannot_write_its_readme_at_the_end_exits_1(tmp_path, capsys, monkeypatch):
    import errno
    import os
    from types import SimpleNamespace

    import engine.measure.bench
    import engine.measure.bench_report
    from engine.events import Finished

    readme = _readme_with_section(tmp_path)
    done = SimpleNamespace(as_dict=dict, goals_passed=True)  # the minutes of timing, skipped
    monkeypatch.setattr(
        engine.measure.bench, "run_bench", lambda settings, cancel: iter([Finished(result=done)])
    )
    monkeypatch.setattr(engine.measure.bench, "render_table", lambda result: "| new |\n")

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(engine.measure.bench_report, "atomic_write_bytes", full)
    assert main(["bench", "--quick", "--readme", str(readme)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {readme}: cannot write it (no space left on device)\n"


def _no_model(monkeypatch):
    """Fail the test if the command gets as far as looking up the model."""
    from engine.models import registry

    def refuse(name):
        raise AssertionError("the model was looked up before the output was checked")

    monkeypatch.setattr(registry, "get_model", refuse)


def test_upscale_refuses_bad_outputs_before_the_model(astronaut_png, tmp_path, capsys, monkeypatch):
    _no_model(monkeypatch)
    (tmp_path / "ok.png").write_bytes(b"a file")
    other = tmp_path / "other.jpg"
    other.write_bytes(b"someone's photo")
    cases = {
        str(other): "already exists",
        str(tmp_path / "ok.png" / "x.png"): "is a file, not a folder",
        str(tmp_path / "x.gif"): "cannot write .gif",
        str(tmp_path / "noext"): "end it with / for a folder",
        str(astronaut_png): "would replace the input",
        str(tmp_path / "ok.png" / "sub") + "/": "is a file, not a folder",
    }
    for output, reason in cases.items():
        assert main(["upscale", str(astronaut_png), "-o", output, "--quiet"]) == 2, output
        err = capsys.readouterr().err
        assert reason in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert other.read_bytes() == b"someone's photo"


def test_upscale_overwrite_and_a_new_folder_with_a_slash(astronaut_png, tmp_path):
    other = tmp_path / "other.png"
    other.write_bytes(b"old")
    args = ["upscale", str(astronaut_png), "-m", "bicubic", "--quiet"]
    assert main([*args, "-o", str(other), "--overwrite"]) == 0
    with Image.open(other) as image:
        assert image.size == (320, 256)
    assert main([*args, "-o", str(tmp_path / "newdir") + "/"]) == 0
    assert [p.name for p in (tmp_path / "newdir").iterdir()] == ["astronaut_bicubic_x4.png"]


def test_upscale_removes_what_a_killed_run_left_for_its_output(astronaut_png, tmp_path):
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    orphan = tmp_path / f".big.png.{int(dead.stdout)}-0123abcd.part"
    orphan.write_bytes(b"half an image")
    out = tmp_path / "big.png"
    assert main(["upscale", str(astronaut_png), "-o", str(out), "-m", "bicubic", "--quiet"]) == 0
    assert out.is_file() and not orphan.exists()


def test_batch_prints_each_failure_once_and_no_folder_it_did_not_make(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (src / "loop.png").symlink_to(src / "loop.png")
    out = tmp_path / "out"
    for quiet in ([], ["--quiet"]):
        assert main(["batch", str(src), "-o", str(out), "-m", "bicubic", *quiet]) == 1
        captured = capsys.readouterr()
        assert (captured.out + captured.err).count("bad.jpg") == 1
        assert (captured.out + captured.err).count("loop.png") == 1
        assert "nothing was written" in captured.out and str(out) not in captured.out
        assert not out.exists()


def test_upscale_says_why_an_input_is_not_a_file(tmp_path, capsys, monkeypatch):
    # Issue 22 item 12: all of these were "no such file".
    _no_model(monkeypatch)
    special = special_files(tmp_path)
    forbid_opening(monkeypatch, list(special.values()))
    (tmp_path / "photos").mkdir()
    cases = {
        tmp_path / "photos": "is a folder, not an image file",
        special["fifo"]: "is a FIFO (named pipe), not a regular file",
        special["zero"]: "is a link to a character device (/dev/zero), not a regular file",
        special["loop"]: "is a symbolic link loop",
        special["broken"]: "is a broken link",
        tmp_path / "nowhere.png": "file not found",
    }
    for source, reason in cases.items():
        assert main(["upscale", str(source), "-o", str(tmp_path / "o.png"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {source}: {reason}") and err.count("\n") == 1, err
    assert not (tmp_path / "o.png").exists()


def test_a_gif_fails_alike_into_a_folder_or_a_file(tmp_path, capsys, monkeypatch):
    # Was "cannot write .gif" (exit 2) into a folder, "GIF images are not supported" (1) else.
    _no_model(monkeypatch)
    gif = tmp_path / "anim.gif"
    Image.fromarray(rgb_noise(8, 8)).save(gif)
    for output in (str(tmp_path / "out") + "/", str(tmp_path / "x.png")):
        assert main(["upscale", str(gif), "-o", output, "--quiet"]) == 1
        err = capsys.readouterr().err
        assert err == f"error: {gif}: GIF images are not supported (supported: PNG, JPEG, " + (
            "WebP, TIFF, BMP)\n"
        ), err
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.png").exists()


def test_a_suffix_we_cannot_write_takes_the_contents_format_in_a_folder(astronaut_png, tmp_path):
    source = tmp_path / "scan.jfif"  # a JPEG under a name we do not write
    with Image.open(astronaut_png) as photo:
        photo.convert("RGB").save(source, "JPEG")
    out = tmp_path / "out"
    assert main(["upscale", str(source), "-o", f"{out}/", "-m", "bicubic", "--quiet"]) == 0
    assert [p.name for p in out.iterdir()] == ["scan_bicubic_x4.jpg"]
    with Image.open(out / "scan_bicubic_x4.jpg") as image:
        assert image.format == "JPEG"


# ---- a stdout that cannot be written (issue 22 item 10): one line, exit 1 --------------------

_ENTRY = "import sys; from engine.cli import main; sys.exit(main())"  # as the mfagan script


def _run_into(stdout_fd: int, *args: str):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", _ENTRY, *args],
        stdout=stdout_fd,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone: every write is EPIPE."""
    import os

    read, write = os.pipe()
    os.close(read)
    return write


def _full_device() -> int:
    import os

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    return os.open("/dev/full", os.O_WRONLY)


@pytest.mark.parametrize(
    ("sink", "args", "reason"),
    [
        (_full_device, ["models"], "No space left on device"),
        (_full_device, ["--help"], "No space left on device"),
        (_closed_pipe, ["models", "--json"], "Broken pipe"),
        (_closed_pipe, ["--version"], "Broken pipe"),
        (_closed_pipe, ["devices"], "Broken pipe"),
    ],
)
def test_a_stdout_that_fails_is_one_line_and_exit_1(sink, args, reason):
    import os

    fd = sink()
    try:
        done = _run_into(fd, *args)
    finally:
        os.close(fd)
    assert done.returncode == 1, done.stderr
    assert done.stderr == f"error: cannot write the output to stdout ({reason})\n"


def test_only_a_failed_stdout_is_reported_so(capsys, monkeypatch):
    """An OSError that did not come from stdout is not relabelled."""
    import errno
    import io

    from engine import cli

    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sys.stdout", Full())
    assert cli.stdout_checked(lambda: print("x") or 0) == 1
    err = capsys.readouterr().err
    assert err == "error: cannot write the output to stdout (No space left on device)\n"

    def other() -> int:
        raise OSError(errno.ENOSPC, "the disk of an output file")

    with pytest.raises(OSError, match="output file"):
        cli.stdout_checked(other)


def test_an_output_name_that_says_another_format_wins_with_a_note(astronaut_png, tmp_path, capsys):
    """Issue 22.8: ``-o x.png --format jpg`` wrote JPEG bytes into x.png without a word. As
    in realesrgan-ncnn-vulkan, a file name's suffix says its format."""
    out = tmp_path / "x.png"
    args = ["upscale", str(astronaut_png), "-o", str(out), "-m", "bicubic", "--quiet"]
    assert main([*args, "--format", "jpg"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the name says PNG, the format asked for is JPEG" in err
    assert "written as PNG" in err
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    folder = tmp_path / "folder"
    assert main([*args[:3], str(folder) + "/", *args[4:], "--format", "jpg"]) == 0
    assert [p.name for p in folder.iterdir()] == ["astronaut_bicubic_x4.jpg"]
    assert capsys.readouterr().err == ""


def test_a_name_pattern_takes_only_its_fields(astronaut_png, tmp_path, capsys, monkeypatch):
    """Issue 22.13: ``{stem.__class__}`` was accepted (format attribute access)."""
    _no_model(monkeypatch)
    for pattern in ("{stem.__class__}", "{stem[0]}", "{stem!r}", "{model:>9}", "{}", "{size}"):
        for command in ("upscale", "batch"):
            args = [command, str(astronaut_png.parent), "-o", str(tmp_path / "o") + "/"]
            if command == "upscale":
                args[1] = str(astronaut_png)
            assert main([*args, "--name", pattern]) == 2, pattern
            err = capsys.readouterr().err
            assert err.count("\n") == 1, err
            assert "is not a field; fields: {stem}, {model}, {scale}" in err
    assert main(["upscale", str(astronaut_png), "--name", "{stem"]) == 2
    assert "name pattern '{stem' is invalid" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_tile_that_is_not_a_number_is_named(astronaut_png, capsys):
    for value in ("abc", "16"):
        assert main(["upscale", str(astronaut_png), "--tile", value]) == 2
        err = capsys.readouterr().err
        assert f"argument --tile: must be 'auto' or at least 32 pixels, not {value}" in err, err
        assert "_tile" not in err


def test_model_names_with_control_characters_are_printed_escaped(tmp_path, capsys):
    """Issue 22.13: a card's name with a newline or an ANSI escape was printed raw."""
    from engine.distill.export import save_student
    from engine.models.mfa import MFAConfig, MFAGenerator
    from engine.models.registry import user_models_dir

    weights = user_models_dir() / "odd.safetensors"
    weights.parent.mkdir(parents=True)
    save_student(weights, MFAGenerator(MFAConfig.decode("b2-c16-g8-h10-conv-x4")))
    weights.with_suffix(".json").write_text(json.dumps({"name": "evil\n\x1b[31mred"}))
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "evil\\n\\x1b[31mred" in out
    assert not any(line.startswith("\x1b") or line.startswith("red") for line in out.splitlines())
    assert main(["upscale", str(weights), "-m", "nothing-like-it"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "evil\\n\\x1b[31mred" in err


def test_what_an_output_leaves_out_of_the_input_is_said(tmp_path, capsys):
    """Issue 22.13: frames after the first and transparency in JPEG were dropped silently."""
    import numpy as np

    frames = [Image.fromarray(rgb_noise(16, 16, seed=i)) for i in range(3)]
    animated = tmp_path / "moving.png"
    frames[0].save(animated, save_all=True, append_images=frames[1:])
    rgba = np.dstack([rgb_noise(16, 16), np.full((16, 16), 128, np.uint8)])
    clear = tmp_path / "clear.png"
    Image.fromarray(rgba).save(clear)
    opaque = tmp_path / "opaque.png"
    Image.fromarray(rgba[:, :, :3]).convert("RGBA").save(opaque)
    cases = {
        (animated, "a.png"): "moving.png: is animated (3 frames); only the first frame is used",
        (clear, "c.jpg"): "c.jpg: JPEG cannot hold transparency; transparent areas are put on",
        (clear, "c.bmp"): "c.bmp: BMP cannot hold transparency",
        (clear, "c.webp"): None,
        (opaque, "o.jpg"): None,
    }
    for (source, name), notice in cases.items():
        assert main(["upscale", str(source), "-o", str(tmp_path / name), "-m", "bicubic"]) == 0
        err = capsys.readouterr().err
        said = [line for line in err.splitlines() if not line.startswith("tile size auto")]
        if notice is None:
            assert said == [], err
        else:
            assert len(said) == 1 and notice in said[0], err


def test_a_model_file_with_nan_weights_is_refused(astronaut_png, tmp_path, capsys):
    """Issue 22.9: torch wrote an all-black image with exit 0."""
    import torch

    from engine.distill.export import save_student
    from engine.models.mfa import MFAConfig, MFAGenerator

    net = MFAGenerator(MFAConfig.decode("b2-c16-g8-h10-conv-x4"))
    with torch.no_grad():
        net.tail.bias[0] = float("nan")
    weights = tmp_path / "diverged.safetensors"
    save_student(weights, net)
    for backend in ("torch", "onnx"):
        out = tmp_path / f"{backend}.png"
        args = ["upscale", str(astronaut_png), "-o", str(out), "-m", str(weights), "--quiet"]
        assert main([*args, "--backend", backend]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"{weights}: tensor 'tail.bias' holds NaN values" in err
        assert not out.exists()


def test_an_output_name_too_long_is_one_line_before_any_work(astronaut_png, tmp_path, capsys):
    from engine.files import name_max

    limit = name_max(tmp_path)
    long_input = tmp_path / ("s" * (limit - len(".png")) + ".png")  # fits; its output does not
    long_input.write_bytes(astronaut_png.read_bytes())
    cases = [
        ([str(astronaut_png), "--name", "n" * 300], tmp_path / ("n" * 300 + ".png")),
        ([str(astronaut_png), "-o", str(tmp_path / ("o" * 300 + ".png"))], None),
        ([str(astronaut_png), "-o", str(tmp_path / ("o" * (limit + 1)) / "x.png")], None),
        ([str(long_input)], tmp_path / (long_input.stem + "_bicubic_x4.png")),
    ]
    before = {p.name for p in tmp_path.iterdir()} | {"data"}  # (the app's data folder)
    for args, output in cases:
        assert main(["upscale", *args, "--model", "bicubic", "--quiet"]) == 2, args
        err = capsys.readouterr().err
        named = output or args[2]
        assert err.startswith(f"error: {named}: ") and err.count("\n") == 1, err
        assert "too long" in err and "Traceback" not in err
    assert {p.name for p in tmp_path.iterdir()} == before
    # In a batch that file fails alone, with the same line, and the exit code says so.
    folder = tmp_path / "in"
    folder.mkdir()
    long_input.rename(folder / long_input.name)
    (folder / "a.png").write_bytes(astronaut_png.read_bytes())
    out = tmp_path / "out"
    args = ["batch", str(folder), "-o", str(out), "--model", "bicubic", "--backend", "torch"]
    assert main([*args, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"{out / (long_input.stem + '_bicubic_x4.png')}: name too long" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["a_bicubic_x4.png"]
