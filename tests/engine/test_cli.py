from __future__ import annotations

import json

from PIL import Image
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
