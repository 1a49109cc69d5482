"""The repository stands alone: no tracked file outside tests/ names a folder of the machine
that wrote it (an absolute machine path) or a path that leads out of the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Absolute folders of one machine: /work/..., /root/..., /home/<user>/..., /Users/<user>/...,
# C:\Users\..., and scratch folders. Not preceded by a word character, a dot or a variable,
# so URLs (".../work/..."), "$RUNS/..." and "~/..." are not matched.
MACHINE_PATH = re.compile(
    r"(?<![\w.$~/-])(?:/(?:work|root|srv|mnt|scratch|tmp|var/tmp)/|/(?:home|Users)/[^/\s]+/"
    r"|[A-Za-z]:\\+Users\\+)"
)
# "../x" (one or more "../"), not "a/../b" nor an ellipsis ".../x".
PARENT_PATH = re.compile(r"(?<![\w./])((?:\.\./)+)([\w.-]*)")


def offences(path: Path, text: str) -> list[str]:
    """Each line of ``text`` (the file at ``path``) that breaks the rule, as ``file:line: ...``."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        bad = [m.group(0) for m in MACHINE_PATH.finditer(line)]
        for match in PARENT_PATH.finditer(line):
            # A link is relative to its file, a command to the repository root: either way
            # it must reach something that is in the repository.
            targets = [
                (base / match.group(1) / match.group(2)).resolve() for base in (path.parent, REPO)
            ]
            if not any(t.is_relative_to(REPO) and t.exists() for t in targets):
                bad.append(match.group(0))
        if bad:
            where = path.relative_to(REPO).as_posix()
            found.append(f"{where}:{number}: {', '.join(bad)}: {line.strip()[:120]}")
    return found


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip(f"git ls-files failed: {listed.stderr.decode(errors='replace').strip()}")
    names = [n for n in listed.stdout.decode().split("\0") if n]
    return [REPO / n for n in names if not n.startswith("tests/")]


def test_no_tracked_file_names_a_machine_folder_or_leaves_the_repository():
    found = []
    for path in tracked_files():
        try:
            data = path.read_bytes()
        except OSError:
            continue  # deleted in the working tree, not yet in the index
        if b"\0" in data[:8192]:
            continue  # weights, images
        found += offences(path, data.decode("utf-8", errors="replace"))
    assert not found, "machine paths or paths out of the repository:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("relative", "line"),
    [
        ("README.md", "mfagan publish /root/mfagan-runs/x"),
        ("README.md", "--data /work/shared/datasets/T91"),
        ("README.md", "--eval ../shared/datasets/Set14"),
        ("engine/x.py", 'Path("/home/alice/photos")'),
        ("docs/x.md", "see ../../elsewhere.md"),
        ("resources/training/README.md", "--data ../shared/datasets/T91"),
        ("docs/x.md", r"C:\Users\bob\runs"),
        ("docs/x.md", "pip download X -d /tmp/wheels"),
    ],
)
def test_the_check_catches(relative: str, line: str):
    assert offences(REPO / relative, f"ok\n{line}\n")


@pytest.mark.parametrize(
    ("relative", "line"),
    [
        ("docs/x.md", "[the README](../README.md)"),
        ("resources/calibration/README.md", "cut from ../samples/"),
        ("docs/x.md", "--validation .../chelsea.png"),
        ("README.md", 'mfagan publish "$RUNS/mfagan-x4-ft" --eval "$DATASETS/Set14"'),
        ("README.md", "https://github.com/work/root/tree/x"),
        ("engine/x.py", "~/.qai_hub/client.ini"),
        ("engine/x.py", "resources/models/../models/mfagan-x4.json"),
    ],
)
def test_the_check_lets_pass(relative: str, line: str):
    assert offences(REPO / relative, line) == []
