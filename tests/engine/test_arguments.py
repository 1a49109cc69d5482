"""The job runners every command module shares (issue 20): ``run_writing`` for a job that
writes into one folder, ``run_training`` for the training commands on top of it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
import torch

from engine.arguments import run_training, run_writing
from engine.errors import StorageError, UsageError
from engine.events import CancelToken, Finished


def _job(result: object = "done", seen: list[CancelToken] | None = None):
    def start(cancel: CancelToken):
        if seen is not None:
            seen.append(cancel)
        yield Finished(result=result)

    return start


def _full_disk(folder: Path):
    def start(cancel: CancelToken):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "weights"))
        yield  # a generator, as every job is

    return start


def test_run_writing_returns_the_result_and_hands_on_the_callers_token(tmp_path):
    token, seen = CancelToken(), []
    assert run_writing(_job("done", seen), tmp_path, quiet=True, cancel=token) == "done"
    assert seen == [token]


def test_run_writing_turns_a_full_disk_into_one_storage_error_naming_the_folder(tmp_path):
    with pytest.raises(StorageError) as raised:
        run_writing(_full_disk(tmp_path), tmp_path, quiet=True)
    assert str(raised.value) == f"{tmp_path}: cannot write (no space left on device)"


def test_run_training_refuses_its_out_folder_before_the_job_starts(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    seen: list[CancelToken] = []
    with pytest.raises(UsageError, match=r"^--out: cannot create the folder"):
        run_training(_job(seen=seen), blocked, quiet=True, threads=None)
    assert seen == []


def test_run_training_applies_threads_and_returns_the_result(tmp_path, one_torch_thread):
    assert run_training(_job("trained"), tmp_path, quiet=True, threads=2) == "trained"
    assert torch.get_num_threads() == 2
