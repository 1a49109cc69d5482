"""User-facing errors: each renders as one clear line naming the file and the reason."""

from __future__ import annotations

from pathlib import Path


class MfaganError(Exception):
    """Base of every error the engine reports to a user (never shown as a traceback)."""


class ImageError(MfaganError):
    """An input image could not be read, or an output could not be written."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class StorageError(MfaganError):
    """A folder the engine keeps files in (its cache, its data, a bundle being written)
    cannot be created or written: full, read-only, or a file where a folder should be."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ModelError(MfaganError):
    """A model name is unknown, a model file cannot be loaded, or weights are unusable."""


class UsageError(MfaganError):
    """The request itself is invalid (e.g. output path equals an input path)."""


def printable(text: object) -> str:
    """``text`` with its control characters (a newline, an ANSI escape) written as escapes:
    a name read from a file or a card shows as what it is, and a line stays one line."""
    shown = str(text)
    if shown.isprintable():
        return shown
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)
