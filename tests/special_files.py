"""Paths that are not regular files, for the tests that must never open them.

A FIFO blocks whoever opens it and a link to /dev/zero never ends, so a regression would
hang or eat memory instead of failing: ``forbid_opening`` turns any open of them into an
AssertionError at once.
"""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import pytest


def special_files(folder: Path, *, suffix: str = ".png") -> dict[str, Path]:
    """name -> path in ``folder``: a FIFO, links to /dev/zero and /dev/urandom, a link loop
    and a broken link, each named like an image. Skips where the platform has none."""
    if not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"):
        pytest.skip("needs FIFOs and /dev/zero (POSIX)")
    paths = {
        name: folder / f"{name}{suffix}" for name in ("fifo", "zero", "urandom", "loop", "broken")
    }
    try:
        os.mkfifo(paths["fifo"])
        os.symlink("/dev/zero", paths["zero"])
        os.symlink("/dev/urandom", paths["urandom"])
        os.symlink(paths["loop"].name, paths["loop"])
        os.symlink("missing" + suffix, paths["broken"])
    except (OSError, NotImplementedError) as exc:
        pytest.skip(f"cannot make FIFOs or links here ({exc})")
    return paths


def forbid_opening(monkeypatch: pytest.MonkeyPatch, paths: list[Path]) -> None:
    """Any open (built-in, io, os) of ``paths`` or what they link to raises AssertionError."""
    forbidden = {os.path.realpath(p) for p in paths} | {os.path.abspath(p) for p in paths}

    def guard(name: object) -> None:
        if isinstance(name, (str, bytes, os.PathLike)):
            text = os.fsdecode(name)
            if os.path.abspath(text) in forbidden or os.path.realpath(text) in forbidden:
                raise AssertionError(f"opened {text}, which is not a regular file")

    real_open, real_os_open = builtins.open, os.open

    def checked_open(file, *args, **kwargs):
        guard(file)
        return real_open(file, *args, **kwargs)

    def checked_os_open(path, *args, **kwargs):
        guard(path)
        return real_os_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", checked_open)
    monkeypatch.setattr(io, "open", checked_open)
    monkeypatch.setattr(os, "open", checked_os_open)
