"""One file in, one out: the final step keeps a file that appeared during the run (issue 22.2)."""

from __future__ import annotations

from PIL import Image
from support import rgb_noise

from engine.cli import main
from engine.events import CancelToken, Progress
from engine.inference import file_upscale
from engine.inference.file_upscale import upscale_file
from engine.inference.upscale import TargetSize, Upscaler, WriteOptions


def test_an_output_copied_there_during_the_run_is_kept(nearest_descriptor, tmp_path):
    source, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(rgb_noise(16, 16)).save(source)
    upscaler = Upscaler(nearest_descriptor, backend="torch", tile=64)
    events = upscale_file(
        upscaler,
        source,
        out,
        target=TargetSize(),
        write=WriteOptions(),
        cancel=CancelToken(),
    )
    failure = None
    try:
        for event in events:
            if isinstance(event, Progress) and not out.exists():
                out.write_bytes(b"the user's file")  # appears while the tiles run
    except Exception as exc:
        failure = exc
    assert failure is not None and str(failure) == f"{out}: already exists"
    assert out.read_bytes() == b"the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out.png"]


def test_cli_clash_at_the_last_step_is_one_line_and_exit_1(
    astronaut_png, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "x.png"
    real = file_upscale.make_output_folder

    def then_someone_copies_a_file(path):
        real(path)
        out.write_bytes(b"the user's file")

    monkeypatch.setattr(file_upscale, "make_output_folder", then_someone_copies_a_file)
    code = main(["upscale", str(astronaut_png), "-o", str(out), "-m", "bicubic", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == f"error: {out}: already exists\n"
    assert out.read_bytes() == b"the user's file"
