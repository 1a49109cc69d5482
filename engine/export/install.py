"""Where a finished bundle goes, without ever deleting a file export did not write.

A bundle folder carries a manifest (``MANIFEST_NAME``) naming its own files. Writing a new
bundle into a folder that already exists replaces and removes only the files of the earlier
manifest (or, for a bundle from before manifests, the files its model card lists); a user's
notes, photos or the very model exported stay. A folder with foreign files and no bundle
gets the bundle beside them, as a download or upscaler output folder would; a foreign file
with a bundle file's name is refused before any work, never replaced.

The bundle is built in a hidden sibling folder, ``.<out>.part-<pid>-<time>``; the pid tells
the leftovers of a killed run (removed by the next export to the same --out) from a folder
another export is writing right now.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import MfaganError, UsageError
from engine.export import bundle
from engine.files import name_problem

MANIFEST_NAME = "mfagan-bundle.json"
_WORK_NAME = re.compile(r"^\.(?P<target>.+)\.(?:part|old)-(?:(?P<pid>\d+)-)?\d{20}$")


def work_folder(out_dir: Path) -> Path:
    """A fresh hidden sibling of ``out_dir`` to build the bundle in (not created)."""
    stamp = f"{datetime.now(UTC):%Y%m%d%H%M%S%f}"
    return out_dir.with_name(f".{out_dir.name}.part-{os.getpid()}-{stamp}")


def remove_stale_work(out_dir: Path) -> list[Path]:
    """Delete the ``.part``/``.old`` folders of earlier exports to ``out_dir`` that were
    killed (their process is gone); only names this module makes are matched."""
    from engine.files import _pid_alive

    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(out_dir.parent):
            match = _WORK_NAME.match(entry.name)
            if match is None or match["target"] != out_dir.name:
                continue
            if not entry.is_dir(follow_symlinks=False):
                continue
            if match["pid"] is not None and _pid_alive(int(match["pid"])):
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def check_model_outside(model: str, out_dir: Path) -> None:
    """Refuse an --out that holds the model being exported (it would sit among the bundle's
    files, and an earlier version of export deleted it)."""
    path = Path(model)
    if not path.is_file():
        return  # a registered name: its file lives in the app's data folder
    if path.resolve().is_relative_to(out_dir.resolve()):
        raise UsageError(
            f"{out_dir}: holds the model being exported ({path}); choose another --out"
        )


def check_out_dir(out_dir: Path, names: set[str]) -> None:
    """Refuse (before any work) an --out that is not a folder, or whose foreign files would
    be replaced by ``names``."""
    # Built first in a hidden sibling with a longer name, which the file system must take.
    extra = len(os.fsencode(work_folder(out_dir).name)) - len(os.fsencode(out_dir.name))
    problem = name_problem(out_dir, extra=extra)
    if problem is not None:
        raise UsageError(f"{out_dir}: {problem}")
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a folder")
    clash = sorted(names & _foreign(out_dir))
    if clash:
        raise UsageError(
            f"{out_dir / clash[0]}: exists and was not written by mfagan export; "
            "move it or choose another --out"
        )


def owned_files(out_dir: Path) -> set[str]:
    """The files of the bundle already in ``out_dir`` (its manifest, or its card's list)."""
    manifest = out_dir / MANIFEST_NAME
    try:
        if manifest.is_file():
            names = set(json.loads(manifest.read_text(encoding="utf-8"))["files"])
            return {n for n in names if _plain_name(n)} | {MANIFEST_NAME}
        card_path = out_dir / bundle.CARD_NAME
        if card_path.is_file():  # a bundle written before manifests
            card = json.loads(card_path.read_text(encoding="utf-8"))
            names = {entry["file"] for entry in card["files"]}
            return {n for n in names if _plain_name(n)} | {bundle.CARD_NAME, bundle.README_NAME}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # unreadable: own nothing, so nothing is removed
    return set()


def install(work: Path, out_dir: Path) -> None:
    """Move the finished bundle in ``work`` to ``out_dir``; ``work`` is gone afterwards."""
    names = {p.name for p in work.iterdir()}
    if not os.path.lexists(out_dir):
        _write_manifest(work, names)
        work.rename(out_dir)
        return
    old = owned_files(out_dir)
    check_out_dir(out_dir, names | {MANIFEST_NAME})  # a file that appeared meanwhile
    # Until the last step the manifest owns old and new files: a run killed half-way
    # leaves nothing that the next export would take for the user's.
    _write_manifest(out_dir, (old | names) - {MANIFEST_NAME}, via=work)
    for name in sorted(names):
        os.replace(work / name, out_dir / name)
    for name in sorted(old - names - {MANIFEST_NAME}):
        with contextlib.suppress(FileNotFoundError):
            (out_dir / name).unlink()
    _write_manifest(out_dir, names, via=work)
    work.rmdir()


def _write_manifest(folder: Path, names: set[str], *, via: Path | None = None) -> None:
    data = {"written_by": "mfagan export", "files": sorted(names | {MANIFEST_NAME})}
    text = json.dumps(data, indent=2) + "\n"
    if via is None:
        (folder / MANIFEST_NAME).write_text(text, encoding="utf-8")
        return
    temp = via / f".{MANIFEST_NAME}.part"
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, folder / MANIFEST_NAME)


def _foreign(out_dir: Path) -> set[str]:
    """Names in ``out_dir`` that no earlier bundle there owns."""
    try:
        present = set(os.listdir(out_dir))
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise MfaganError(f"{out_dir}: cannot be read ({exc.strerror or exc})") from None
    return present - owned_files(out_dir)


def _plain_name(name: object) -> bool:
    """A manifest entry that names a file in the folder itself (never ../ or a path)."""
    return isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name
