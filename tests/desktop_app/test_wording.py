"""The engine's command-line hints in the window's words (issue 21.8), and counts (21.12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.phone.context import PHONE_HINTS
from desktop_app.wording import count, in_gui_words
from desktop_app.workers import JobRunner
from engine.distill.checkpoint import CHECKPOINT_NAME, open_run
from engine.errors import UsageError
from engine.events import Cancelled
from engine.inference.outputs import output_problem
from engine.phones.adb import detect_phone
from tests.desktop_app.helpers import WAIT_MS


def _engine_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Real messages of the engine that reach the window, made by the engine itself."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    no_adb = detect_phone().message
    run = tmp_path / "run"
    run.mkdir()
    (run / CHECKPOINT_NAME).write_bytes(b"")
    with pytest.raises(UsageError) as taken:
        next(open_run(run, resume=False, config={}, main=True))
    with pytest.raises(UsageError) as empty:
        next(open_run(run, resume=True, config={}, main=False))
    existing = tmp_path / "a_x4.png"
    existing.write_bytes(b"x")
    return [
        no_adb,
        str(taken.value),
        str(empty.value),
        str(output_problem(existing)),
        "--tile 512 needs about 3.1 GiB, more than the 1.0 GiB this computer can spare",
        "x.onnx: onnxruntime cannot open this model's export (bad file); use --backend torch",
        "stopped at step 12; resume with --resume",
    ]


def test_no_engine_hint_reaches_the_window_as_a_flag(tmp_path: Path, monkeypatch) -> None:
    messages = _engine_messages(tmp_path, monkeypatch)
    assert all("--" in m for m in messages)  # each really is a command-line hint
    said = [in_gui_words(m) for m in messages]
    assert not [s for s in said if "--" in s], said
    no_adb, taken, empty, exists, tile, backend, stopped = said
    assert "pick the closest profile in the list instead" in no_adb
    assert "Resume continues it, or choose another name" in taken
    assert "start a new run under another name" in empty
    assert "Skip images whose result already exists" in exists
    assert tile.startswith("a tile size of 512 px needs about")
    assert backend.endswith("choose PyTorch as the Backend (under Advanced)")
    assert stopped == "stopped at step 12; Resume continues from there"
    # A flag the window has no hint for is still not shown as one.
    assert in_gui_words("give at least one --eval folder") == "give at least one “eval” folder"
    assert in_gui_words("a photo-to-photo step") == "a photo-to-photo step"


def test_a_page_names_what_a_flag_means_on_it(qtbot, tmp_path: Path) -> None:
    reason = (
        f"{tmp_path}/checkpoint.pt: the checkpoint was made with a different config (differs "
        "in: data); use another --out folder or the same settings"
    )

    def failing(_cancel):
        raise UsageError(reason)
        yield

    said: list[str] = []
    runner = JobRunner()
    runner.start(failing, name="test", hints=PHONE_HINTS, on_failed=said.append)
    qtbot.waitUntil(lambda: len(said) == 1, timeout=WAIT_MS)
    assert said[0].endswith("or pick another network in step 3") and "--" not in said[0]
    runner.start(failing, name="test", on_failed=said.append)
    qtbot.waitUntil(lambda: len(said) == 2, timeout=WAIT_MS)
    assert said[1].endswith("or start a new run under another name")


def test_cancel_message_loses_its_flag(qtbot) -> None:
    def stopped(_cancel):
        raise Cancelled("stopped at step 3; resume with --resume")
        yield

    said: list[str] = []
    JobRunner().start(stopped, name="test", on_cancelled=said.append)
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT_MS)
    assert said == ["stopped at step 3; Resume continues from there"]


def test_count_says_one_thing_and_many_things() -> None:
    assert count(1, "step") == "1 step"
    assert count(0, "step") == "0 steps"
    assert count(20, "step") == "20 steps"
    assert count(2, "copy", "copies") == "2 copies"
