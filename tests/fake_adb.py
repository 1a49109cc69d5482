"""A shell stand-in for ``adb`` put first on PATH: ``adb devices`` prints $FAKE_DEVICES,
``adb -s S shell getprop P`` prints $FAKE_<what>, and $FAKE_FAIL makes every call fail."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPT = """#!/bin/sh
if [ -n "$FAKE_FAIL" ]; then echo "error: protocol fault" >&2; exit 1; fi
if [ "$1" = devices ]; then
    echo "List of devices attached"
    printf "$FAKE_DEVICES"
    exit 0
fi
case "$5" in
    ro.soc.model) echo "$FAKE_SOC" ;;
    ro.board.platform) echo "$FAKE_PLATFORM" ;;
    ro.product.model) echo "$FAKE_MODEL" ;;
esac
"""


def install_fake_adb(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Write the fake adb into ``folder/bin``, put it on PATH; returns a setter for what it
    reports (it reports no phone until called)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    adb = bin_dir / "adb"
    adb.write_text(SCRIPT, encoding="utf-8")
    adb.chmod(adb.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    def report(devices="", soc="", platform="", model="", fail=""):
        for name, value in (
            ("FAKE_DEVICES", devices), ("FAKE_SOC", soc), ("FAKE_PLATFORM", platform),
            ("FAKE_MODEL", model), ("FAKE_FAIL", fail),
        ):  # fmt: skip
            monkeypatch.setenv(name, value)

    report()
    return report
