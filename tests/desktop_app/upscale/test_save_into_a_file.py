"""Issue 19: saving into an output folder that is a file (or lies below one, or has a name
too long for the file system) says so in one line naming it, leaves no half-written file
anywhere and touches neither that file nor the original."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.files import TEMP_SUFFIX
from tests.desktop_app.helpers import WAIT_MS, save_photo


@pytest.mark.parametrize("where", ["the folder", "below it", "a name too long"])
def test_saving_into_a_file_is_one_line_and_leaves_nothing(
    where: str, qtbot, window, tmp_path: Path
) -> None:
    page = window.upscale
    photo = save_photo(tmp_path / "photos" / "astronaut.png")
    original = photo.read_bytes()
    page.add_paths([photo])
    qtbot.waitUntil(
        lambda: [item.state for item in page.work.items.values()] == ["done"], timeout=WAIT_MS
    )
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    folder = {"the folder": blocker, "below it": blocker / "x"}.get(where, tmp_path / ("r" * 300))
    window.options.update(output_dir=str(folder))
    lines: list[str] = []
    page.status.connect(lines.append)
    with qtbot.waitSignal(
        page.status, timeout=WAIT_MS, check_params_cb=lambda text: "not saved" in text
    ):
        page.save_button.click()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    (line,) = [text for text in lines if "not saved" in text]
    reason = "name too long" if where == "a name too long" else f"{blocker} is a file"
    assert str(folder) in line and reason in line and "\n" not in line
    assert "Errno" not in line and "Error" not in line
    assert page.unsaved_count() == 1
    assert blocker.read_text() == "not a folder" and photo.read_bytes() == original
    assert [p for p in tmp_path.rglob("*") if TEMP_SUFFIX in p.name] == []
    assert [p for p in tmp_path.rglob("astronaut*") if p != photo] == []
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["astronaut.png"]
