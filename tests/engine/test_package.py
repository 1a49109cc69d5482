"""The engine package itself: what importing it sets up."""

from __future__ import annotations


def test_opening_onnxruntime_through_the_engine_writes_nothing_in_home(tmp_path):
    # onnxruntime's own telemetry keeps a device id in ~/.cache/Microsoft/ unless it is off.
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    code = "import engine, onnxruntime; onnxruntime.get_available_providers()"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list(home.rglob("*")) == []
    assert "telemetry" not in done.stderr
