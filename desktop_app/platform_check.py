"""Before the window opens: are the system libraries of Qt's X11 (xcb) plugin installed?

Qt aborts with "Could not load the Qt platform plugin xcb" when one is missing, without
naming it. A fresh Debian or Ubuntu lacks a few (libxcb-cursor0, libxcb-icccm4,
libxcb-keysyms1): ``ldd`` on the plugin tells which, and Debian names a library's package
after its soname, so the one ``apt`` command that fixes it can be printed.

    python -m desktop_app.platform_check   # exit 1 with that command, 0 when all is well
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Sonames whose Debian package does not follow the soname rule.
PACKAGE_EXCEPTIONS = {"libglib-2.0.so.0": "libglib2.0-0", "libGLX.so.0": "libglx0"}
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plugin inside the installed PySide6 (None if it has none)."""
    try:
        import PySide6  # no Qt library is loaded by importing the package itself
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def uses_xcb(environ: dict[str, str]) -> bool:
    """Qt picks xcb unless told otherwise or running under Wayland (its first choice there)."""
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return sys.platform.startswith("linux") and not environ.get("WAYLAND_DISPLAY")


def missing_libraries(plugin: Path) -> list[str]:
    """Sonames ``ldd`` cannot find for the plugin (empty when ldd itself is unavailable)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        listing = subprocess.run(
            [ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted(set(NOT_FOUND.findall(listing)))


def debian_package(soname: str) -> str:
    """``libxcb-icccm.so.4`` -> ``libxcb-icccm4``; ``libxkbcommon-x11.so.0`` -> ``...-x11-0``."""
    if soname in PACKAGE_EXCEPTIONS:
        return PACKAGE_EXCEPTIONS[soname]
    stem, _, version = soname.partition(".so.")
    version = version.split(".")[0]
    joiner = "-" if stem[-1:].isdigit() else ""
    return f"{stem}{joiner}{version}".lower()


def install_command(sonames: list[str]) -> str:
    packages = sorted({debian_package(s) for s in sonames})
    return "sudo apt-get install " + " ".join(packages)


def problem(environ: dict[str, str] | None = None) -> str:
    """One line saying what to install, or "" when the window can open (as far as we know)."""
    environ = dict(os.environ if environ is None else environ)
    plugin = xcb_plugin()
    if plugin is None or not uses_xcb(environ):
        return ""
    missing = missing_libraries(plugin)
    if not missing:
        return ""
    return (
        f"The window cannot open: Qt's X11 plugin needs {', '.join(missing)}. "
        f"Install them with: {install_command(missing)}"
    )


def main() -> int:
    line = problem()
    if line:
        print(line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
