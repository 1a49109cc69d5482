"""The pre-start check names the apt packages of the xcb libraries Qt cannot find."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from desktop_app import platform_check

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)
"""


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_debian_package_of_a_soname(soname: str, package: str) -> None:
    assert platform_check.debian_package(soname) == package


def test_missing_libraries_give_one_apt_command(monkeypatch, tmp_path: Path) -> None:
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setattr(platform_check.shutil, "which", lambda _name: "/usr/bin/ldd")

    def fake_run(args, **_kwargs):
        assert args == ["/usr/bin/ldd", str(plugin)]
        return subprocess.CompletedProcess(args, 0, stdout=LDD_OUTPUT, stderr="")

    monkeypatch.setattr(platform_check.subprocess, "run", fake_run)
    line = platform_check.problem({"DISPLAY": ":0"})
    assert line.endswith(
        "Install them with: sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    )
    assert "libxcb-icccm.so.4" in line and "\n" not in line
    # Another platform plugin does not need them: no complaint then.
    assert platform_check.problem({"QT_QPA_PLATFORM": "offscreen"}) == ""
    assert platform_check.problem({"WAYLAND_DISPLAY": "wayland-0"}) == ""
    assert platform_check.problem({"QT_QPA_PLATFORM": "xcb"}) == line


def test_the_real_plugin_is_checked_without_error() -> None:
    """On this machine: either all is installed ("") or the line names an apt command."""
    plugin = platform_check.xcb_plugin()
    if plugin is None:
        pytest.skip("this PySide6 has no xcb plugin")
    line = platform_check.problem({"QT_QPA_PLATFORM": "xcb"})
    assert line == "" or "sudo apt-get install lib" in line


def test_studio_refuses_to_start_with_the_command(monkeypatch, capsys) -> None:
    from desktop_app.__main__ import main

    monkeypatch.setattr(platform_check, "problem", lambda: "The window cannot open: X")
    assert main([]) == 1
    assert capsys.readouterr().err.strip() == "The window cannot open: X"
