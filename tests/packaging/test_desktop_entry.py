"""The Linux .desktop entry, its installer, and the icon files (packaging/)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in the desktop entry spec
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_names_the_app_and_its_icon():
    entry = _entry(PACKAGING / "mfagan-studio.desktop")
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "mfagan-studio"
    assert entry["Icon"] == "mfagan-studio"
    assert entry["Terminal"] == "false"
    assert "image/png" in entry["MimeType"].split(";")


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_installer_writes_an_absolute_exec_and_uninstalls(tmp_path):
    app = tmp_path / "My Apps" / "mfagan-studio"  # a space: Exec must be quoted
    (app / "_internal" / "resources" / "icons").mkdir(parents=True)
    (app / "_internal" / "resources" / "icons" / "mfagan-studio.png").write_bytes(b"png")
    for name in ("mfagan-studio.desktop", "install-desktop-entry.sh"):
        shutil.copy2(PACKAGING / name, app / name)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "d")}
    subprocess.run(["sh", str(app / "install-desktop-entry.sh")], env=env, check=True)
    installed = tmp_path / "d" / "applications" / "mfagan-studio.desktop"
    assert _entry(installed)["Exec"] == f'"{app}/mfagan-studio" %F'
    assert (
        tmp_path / "d" / "icons" / "hicolor" / "256x256" / "apps" / "mfagan-studio.png"
    ).is_file()
    subprocess.run(
        ["sh", str(app / "install-desktop-entry.sh"), "--uninstall"], env=env, check=True
    )
    assert not installed.exists()


def test_icons_for_every_platform(packaging_module, tmp_path):
    icons = packaging_module("icons/make_icon.py").write_icons(tmp_path)
    with Image.open(icons["png"]) as png:
        assert png.size == (256, 256) and png.mode == "RGBA"
        # Transparent corners, opaque middle: the rounded square is really drawn.
        assert png.getpixel((0, 0))[3] == 0 and png.getpixel((128, 128))[3] == 255
    with Image.open(icons["ico"]) as ico:
        assert (16, 16) in ico.info["sizes"] and (256, 256) in ico.info["sizes"]
    with Image.open(icons["icns"]) as icns:
        assert icns.format == "ICNS"
