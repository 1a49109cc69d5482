"""Retrain page: the time left of a part of the run says it is that part's. "about 1 min 49 s
left" beside "Making examples" read as the whole run's, while it was only the teacher pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.model_names import RUN_STAGE_TEXT
from tests.desktop_app.helpers import WAIT_MS, fill_retrain_form

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_parts_time_left_is_said_to_be_that_parts(
    qtbot, window, tmp_path: Path, monkeypatch
) -> None:
    # A cache of its own: examples an earlier test made are not made again, and then the
    # part this test is about passes in an instant.
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    page = fill_retrain_form(qtbot, window, tmp_path, name="gui-parts", steps=6)
    strip = page.progress
    shown: list[tuple[str, str, str]] = []  # (the line, as drawn, the time left beside it)
    progress = strip.progress

    def noted(stage: str, done: int, total: int, text: str) -> None:
        progress(stage, done, total, text)
        shown.append((strip.text.text(), strip.text.shown_text(), strip.left.text()))

    strip.progress = noted
    with qtbot.waitSignal(page.runEnded, timeout=WAIT_MS) as ended:
        page.form.start_button.click()
    assert ended.args == ["finished"]
    examples = RUN_STAGE_TEXT["teacher cache"]
    timed = [line for line in shown if line[0].startswith(examples) and line[2]]
    assert timed, shown
    for line, drawn, _left in timed:
        assert line == f"{examples}, time for this part:"
        assert drawn == line  # whole at the window's size, not cut before "this part"
    training = [line for line, _, _ in shown if line.startswith("Training")]
    assert training and not any("this part" in line for line in training)
    parts = [line for line, _, left in shown if left and not line.startswith("Training")]
    assert all(line.endswith(", time for this part:") for line in parts), parts
