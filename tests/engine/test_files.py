from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pytest

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



def test_staged_files_replace_their_targets_together_or_not_at_all(tmp_path):
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"old a")
    with pytest.raises(OSError), files.staged_replace() as stage:
        files.atomic_write_bytes(stage(first), b"new a")
        assert files.remove_in_flight_temporaries() == []  # a hard exit would remove it
        files.atomic_write_bytes(stage(first), b"new a")
        raise OSError(28, "No space left on device")  # met while the second is written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]
    assert first.read_bytes() == b"old a"
    with files.staged_replace() as stage:
        files.atomic_write_bytes(stage(first), b"new a")
        files.atomic_write_bytes(stage(second), b"new b")
        assert not second.exists()
    assert (first.read_bytes(), second.read_bytes()) == (b"new a", b"new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin"]

def test_a_name_must_fit_with_the_temporary_it_is_written_under(tmp_path):
    limit = files.name_max(tmp_path)
    extra = len(files.temp_path_for(tmp_path / "x").name) - 1
    assert files.name_problem(tmp_path / ("a" * (limit - extra))) is None
    problem = files.name_problem(tmp_path / ("a" * (limit - extra + 1)))
    assert problem == (
        f"name too long for the file system: {limit - extra + 1} bytes, at most "
        f"{limit - extra} ({limit} less {extra} for the temporary name it is written under first)"
    )
    assert files.name_problem(tmp_path / ("a" * limit), extra=0) is None  # a folder, say
    # Counted in bytes of the name as the file system gets it: "é" is two in UTF-8.
    assert files.name_problem(tmp_path / ("é" * (limit // 2 + 1)), extra=0) is not None
    deep = tmp_path / ("f" * (limit + 1)) / "out.png"
    assert files.name_problem(deep) == (
        f"a folder name in it is too long: {limit + 1} bytes, at most {limit}"
    )
    assert files.folder_problem(deep.parent) == (
        f"cannot create the folder {deep.parent} (name too long for the file system: "
        f"{limit + 1} bytes, at most {limit})"
    )


def test_without_pathconf_a_name_may_have_255_bytes(tmp_path, monkeypatch):
    def no_pathconf(path, name):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "pathconf", no_pathconf)
    assert files.name_max(tmp_path / "not" / "made" / "yet") == 255
    monkeypatch.setattr(os, "pathconf", lambda path, name: 40)
    assert files.name_max(tmp_path / "not" / "made" / "yet") == 40
    assert files.name_problem(tmp_path / "new" / ("a" * 25)) is not None  # with its temporary
