from __future__ import annotations

import contextlib
import os
import subprocess
import sys

from engine import files


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_stale_temporaries_are_ours_and_their_writer_is_gone(tmp_path):
    dead = _dead_pid()
    ours = tmp_path / f".a.png.{dead}-0123abcd.part"
    legacy = tmp_path / ".a.png.0123abcd.part"  # written before temporaries carried a pid
    live = tmp_path / f".a.png.{os.getpid()}-0123abcd.part"
    foreign = tmp_path / "a.png.part"
    other_target = tmp_path / f".b.png.{dead}-0123abcd.part"
    for path in (ours, legacy, live, foreign, other_target):
        path.write_bytes(b"half")
    assert files.remove_stale_temporaries(tmp_path, targets={"a.png"}) == sorted([ours, legacy])
    assert live.exists() and foreign.exists() and other_target.exists()
    assert files.remove_stale_temporaries(tmp_path) == [other_target]


def test_an_interrupted_write_can_remove_its_temporary(tmp_path, monkeypatch):
    """What a second Ctrl-C does before the process exits: no temporary survives."""
    seen: list[tuple[str, bool]] = []

    def hard_exit(fd):
        # Runs mid-write, as a signal handler would; os._exit would follow at once.
        temps = list(tmp_path.glob(".*.part"))
        files.remove_in_flight_temporaries()
        seen.extend((p.name, p.exists()) for p in temps)
        raise SystemExit(130)

    monkeypatch.setattr(os, "fsync", hard_exit)
    with contextlib.suppress(SystemExit):
        files.atomic_write_bytes(tmp_path / "a.bin", b"data")
    assert len(seen) == 1 and seen[0][1] is False
    assert list(tmp_path.iterdir()) == []
