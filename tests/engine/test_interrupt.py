"""Ctrl-C in a real process (issue 9 item 3): any number of interrupts during a torch or
onnxruntime run ends with exit 130 and the same one line; no traceback, no abort, no
partial file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from support import rgb_noise

from engine.console import CANCELLED

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import pathlib, sys, time
import torch
from torch import nn
from support import make_descriptor

flag, kind = pathlib.Path(sys.argv[1]), sys.argv[2]

class Nap(nn.Module):
    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
    def forward(self, x):
        share = x.shape[-1] * x.shape[-2] / 256**2  # memory profile and timing crops are small
        if share >= 1:
            flag.touch()  # the real tile: what the user waits for
        time.sleep(self.seconds * share)  # one layer that cannot stop part-way, like a big conv
        return x

class Up(nn.Module):
    def forward(self, x):
        return nn.functional.interpolate(x, scale_factor=4, mode="nearest")

if kind == "onnx":
    torch.manual_seed(0)
    convs = [nn.Conv2d(3 if i == 0 else 24, 24, 3, padding=1) for i in range(60)]
    module = nn.Sequential(*convs, nn.Conv2d(24, 48, 3, padding=1), nn.PixelShuffle(4))
    from engine.inference import backends
    original = backends.run_session_abortable
    def run(session, inputs, cancel):
        if next(iter(inputs.values())).shape[-1] < 256:
            return original(session, inputs, cancel)  # memory profile and timing crops
        flag.touch()
        while True:  # the real tile never finishes on its own: only Ctrl-C ends it, on any CPU
            original(session, inputs, cancel)
    backends.run_session_abortable = run
else:
    seconds, count = (30.0, 1) if kind == "long" else (0.1, 300)
    module = nn.Sequential(*[Nap(seconds) for _ in range(count)], Up())
descriptor = make_descriptor(module, name="slow")
from engine.models import registry
registry.get_model = lambda name: descriptor
from engine.cli import main
backend = "onnx" if kind == "onnx" else "torch"
sys.argv = ["mfagan", "upscale", sys.argv[3], "-o", sys.argv[4], "-m", "slow",
            "--backend", backend, "--tile", "256", "--quiet"]
sys.exit(main())  # as the installed mfagan command calls it
"""


def _start_driver(tmp_path: Path, text: str, *args: str) -> subprocess.Popen:
    """The driver script ``text`` in a child process, one thread, with the repo importable."""
    script = tmp_path / "driver.py"
    script.write_text(text)
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
        "OMP_NUM_THREADS": "1",
    }
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize(
    ("kind", "interrupts"),
    [("layers", 1), ("long", 2), ("onnx", 3)],
)
def test_any_number_of_ctrl_c_ends_with_130_and_one_line(tmp_path, kind, interrupts):
    source, output, flag = tmp_path / "a.png", tmp_path / "out" / "a_x4.png", tmp_path / "running"
    Image.fromarray(rgb_noise(256, 256)).save(source)
    process = _start_driver(tmp_path, DRIVER, str(flag), kind, str(source), str(output))
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the model never started"
            time.sleep(0.05)
        time.sleep(0.3)
        for _ in range(interrupts):
            process.send_signal(signal.SIGINT)
            time.sleep(0.4)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    lines = err.strip().splitlines()
    assert lines[-1] == CANCELLED, err
    assert "Traceback" not in err and "terminate called" not in err, err
    assert not output.exists()
    leftovers = list(output.parent.glob("*")) if output.parent.exists() else []
    assert leftovers == []


WRITE_DRIVER = """
import pathlib, sys, time
from engine.events import CancelToken
from engine.imageio import writer
from engine.inference import file_upscale
from engine.models import registry
from support import NearestX4, make_descriptor

flags, where, hold = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
taken = flags / "taken"

cancel = CancelToken.cancel
def cancel_and_say(self):
    cancel(self)
    taken.touch()  # the first Ctrl-C has been taken
CancelToken.cancel = cancel_and_say

def hold_here():
    (flags / "holding").touch()  # the state the test waits for before it signals
    while hold == "forever" or not taken.exists():
        time.sleep(0.01)

real_png, real_write = writer.write_png, file_upscale.write_image
def write_png(handle, pixels, **options):
    handle.write(pixels[:8].tobytes())  # half written: the .part file is on disk
    handle.flush()
    hold_here()
    real_png(handle, pixels, **options)
def write_image(*args, **options):
    real_write(*args, **options)
    hold_here()  # published: the output is complete
if where == "during":
    writer.write_png = write_png
else:
    file_upscale.write_image = write_image

registry.get_model = lambda name: make_descriptor(NearestX4())
from engine.cli import main
sys.argv = ["mfagan", "upscale", sys.argv[4], "-o", sys.argv[5], "-m", "nearest",
            "--backend", "torch", "--tile", "128"]
sys.exit(main())
"""


def _wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("where", "hold", "signals"),
    [
        ("during", "until-cancel", [signal.SIGINT]),  # issue 22.6: it used to finish, exit 0
        ("during", "forever", [signal.SIGINT, signal.SIGINT]),
        ("during", "forever", [signal.SIGTERM]),  # issue 22.7
        ("after", "until-cancel", [signal.SIGINT]),
        ("after", "forever", [signal.SIGTERM]),
    ],
)
def test_a_signal_while_the_output_is_written_ends_with_130(tmp_path, where, hold, signals):
    """Cancel means no output; only a file already published stays, and the line says so."""
    from engine.console import kept_line

    source, output = tmp_path / "a.png", tmp_path / "out" / "t.png"
    output.parent.mkdir()
    flags = tmp_path / "flags"
    flags.mkdir()
    Image.fromarray(rgb_noise(160, 160)).save(source)
    process = _start_driver(
        tmp_path, WRITE_DRIVER, str(flags), where, hold, str(source), str(output)
    )
    try:
        _wait_for(flags / "holding", process)
        if where == "during":
            assert [p.suffix for p in output.parent.iterdir()] == [".part"]
        for number, signum in enumerate(signals):
            if number:
                _wait_for(flags / "taken", process)  # the second one comes after the first
            process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and out == "", (out, err)
    if where == "during":
        assert err.strip().splitlines()[-1] == CANCELLED, err
        assert list(output.parent.iterdir()) == []  # neither the output nor a .part file
    else:
        assert err.strip().splitlines()[-1] == kept_line(output), err
        assert [p.name for p in output.parent.iterdir()] == ["t.png"]
        with Image.open(output) as image:
            assert image.size == (640, 640)
