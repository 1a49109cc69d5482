"""Batch page: several failures are counted and pointed at; an output folder that cannot be
written is refused before any work, in one plain line; an output name too long for the file
system fails that file only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.desktop_app.helpers import WAIT_MS, save_photo, start_batch


def broken(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this is a text file, not a picture")
    return path


def ended_text(qtbot, page) -> str:
    qtbot.waitUntil(lambda: page.job is None and page.result is not None, timeout=WAIT_MS)
    return page.overall.text.text()


def test_several_failures_are_counted_and_point_at_the_errors(
    qtbot, window, tmp_path: Path
) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    save_photo(source / "good.png")
    for name in ("a.png", "b.png", "c.png"):
        broken(source / name)
    page = window.batch
    start_batch(window, source, output)
    text = ended_text(qtbot, page)
    assert "3 failed" in text and "see Errors below" in text
    assert " — a.png: " in text and "; 2 others too, see Errors below" in text
    assert page.errors.topLevelItemCount() == 3
    assert "Traceback" not in text and "--" not in text


def test_one_failure_is_named_with_its_reason(qtbot, window, tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    save_photo(source / "good.png")
    broken(source / "bad.png")
    page = window.batch
    start_batch(window, source, output)
    text = ended_text(qtbot, page)
    assert "1 failed" in text
    reason = page.errors.topLevelItem(0).text(1)
    assert text.endswith(f"1 failed — bad.png: {reason}")
    assert "see Errors" not in text


def refused(window, output: Path, source: Path) -> str:
    page = window.batch
    start_batch(window, source, output)
    assert page.job is None and page.start_button.isEnabled()
    assert page.files.topLevelItemCount() == 0
    return page.overall.text.text()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return save_photo(tmp_path / "in" / "good.png").parent


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_a_read_only_output_folder_is_refused(window, tmp_path: Path, source: Path) -> None:
    output = tmp_path / "locked"
    output.mkdir()
    output.chmod(0o555)
    try:
        text = refused(window, output, source)
    finally:
        output.chmod(0o755)
    assert text.startswith("Cannot start") and str(output) in text
    assert "permission denied" in text
    assert list(output.iterdir()) == []


def test_a_read_only_file_system_is_refused(
    window, tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.files

    output = tmp_path / "mounted"
    output.mkdir()
    monkeypatch.setattr(engine.files, "_read_only", lambda folder: Path(folder) == output)
    text = refused(window, output, source)
    assert text.startswith("Cannot start") and str(output) in text
    assert "read-only" in text


def test_a_file_in_place_of_the_output_folder_is_refused(
    window, tmp_path: Path, source: Path, dialogs: list[str]
) -> None:
    output = tmp_path / "out"
    output.write_text("a file, not a folder")
    text = refused(window, output, source)
    assert text.startswith("Cannot start") and str(output) in text
    assert "not a folder" in text
    deeper = refused(window, output / "inside", source)
    assert str(output) in deeper and "not a folder" in deeper
    assert dialogs == []


def test_an_output_folder_name_too_long_is_refused(
    window, tmp_path: Path, source: Path, dialogs: list[str]
) -> None:
    output = tmp_path / ("x" * 300)
    text = refused(window, output, source)
    assert text.startswith("Cannot start") and "too long" in text
    assert "Traceback" not in text and "--" not in text
    assert not window.batch.show_output.isEnabled()
    assert dialogs == []


def test_one_output_name_too_long_fails_that_file_only(qtbot, window, tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    save_photo(source / "good.png")
    long_name = "n" * 245 + ".png"  # fits; "<stem>_bicubic_x4.png" does not
    save_photo(source / long_name, "coffee")
    page = window.batch
    start_batch(window, source, output)
    ended_text(qtbot, page)
    assert page.counts.text() == "1 done · 0 skipped · 1 failed"
    assert page.errors.topLevelItemCount() == 1
    row = page.errors.topLevelItem(0)
    assert row.text(0) == long_name and "too long" in row.text(1)
    assert (output / "good_bicubic_x4.png").is_file()
