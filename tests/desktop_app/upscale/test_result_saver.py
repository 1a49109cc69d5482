"""Save all, the unsaved count and Save as onto an original (issue 21.13, 21.14); Save all
follows the Folder setting and asks nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from tests.desktop_app.helpers import WAIT_MS, save_photo


def _three_done(qtbot, window, tmp_path: Path) -> list[Path]:
    photos = [
        save_photo(tmp_path / "photos" / f"{name}.png", name)
        for name in ("astronaut", "coffee", "chelsea")
    ]
    page = window.upscale
    page.add_paths(photos)
    qtbot.waitUntil(
        lambda: (
            len(page.work.items) == 3
            and all(item.state == "done" for item in page.work.items.values())
        ),
        timeout=WAIT_MS,
    )
    return photos


def _status(qtbot, page, words: str):
    return qtbot.waitSignal(
        page.status, timeout=WAIT_MS, check_params_cb=lambda text: words in text
    )


@pytest.fixture
def folder_dialog(monkeypatch) -> list[str]:
    """Records where each folder dialog opened (Save all must open none) and cancels it."""
    asked: list[str] = []

    def answer(_parent, _caption, start="", *_args, **_kwargs) -> str:
        asked.append(start)
        return ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(answer))
    return asked


def test_save_all_saves_next_to_each_original_without_asking(
    qtbot, window, tmp_path: Path, folder_dialog: list[str]
) -> None:
    """The Folder setting says "Next to the original": Save all follows it (a new user was
    asked for a folder), with the usual naming, and never writes over an original."""
    page = window.upscale
    window.options.update(name_pattern="{stem}", output_dir="", format="")
    photos = _three_done(qtbot, window, tmp_path)
    originals = {photo: photo.read_bytes() for photo in photos}
    with _status(qtbot, page, "saved 3 results"):
        page.save_all_button.click()
    assert folder_dialog == []  # nothing asked
    assert {photo: photo.read_bytes() for photo in photos} == originals
    assert sorted(p.name for p in photos[0].parent.iterdir()) == [
        "astronaut-2.png",
        "astronaut.png",
        "chelsea-2.png",
        "chelsea.png",
        "coffee-2.png",
        "coffee.png",
    ]
    assert page.unsaved_count() == 0
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    with _status(qtbot, page, "every result is saved next to their originals already"):
        page.save_all_button.click()
    assert folder_dialog == [] and len(list(photos[0].parent.iterdir())) == 6


def test_save_all_saves_into_the_folder_setting_and_replaces_nothing(
    qtbot, window, tmp_path: Path, folder_dialog: list[str]
) -> None:
    page = window.upscale
    photos = _three_done(qtbot, window, tmp_path)
    page.queue.select(photos[0])
    with _status(qtbot, page, "saved"):
        page.save_button.click()  # the one on show, next to its original
    assert page.unsaved_count() == 2
    out = tmp_path / "chosen"
    out.mkdir()
    taken = out / "coffee_bicubic_x4.png"
    taken.write_bytes(b"someone else's file")
    window.options.update(output_dir=str(out))
    # A result saved elsewhere is saved into the folder of the setting too: all three.
    with _status(qtbot, page, f"saved 3 results in {out}"):
        page.save_all_button.click()
    assert folder_dialog == []
    assert taken.read_bytes() == b"someone else's file"
    assert sorted(p.name for p in out.iterdir()) == [
        "astronaut_bicubic_x4.png",
        "chelsea_bicubic_x4.png",
        "coffee_bicubic_x4-2.png",
        "coffee_bicubic_x4.png",
    ]
    with Image.open(out / "coffee_bicubic_x4-2.png") as image:
        assert image.size == (256, 192)
    assert page.unsaved_count() == 0
    # Again: nothing is copied twice, and it says why.
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    with _status(qtbot, page, f"every result is saved in {out} already"):
        page.save_all_button.click()
    assert len(list(out.iterdir())) == 4


def test_quit_prompt_counts_every_unsaved_result(
    qtbot, window, tmp_path: Path, dialogs: list[str]
) -> None:
    page = window.upscale
    _three_done(qtbot, window, tmp_path)
    # A save that fails (its folder cannot be made) leaves the result unsaved.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    window.options.update(output_dir=str(blocker / "results"))
    with _status(qtbot, page, "not saved"):
        page.save_button.click()
    assert page.unsaved_count() == 3
    window.options.update(output_dir="")
    with _status(qtbot, page, "saved"):
        page.save_button.click()
    assert page.unsaved_count() == 2
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)  # the save has ended
    window.ask_before_closing = True
    window.close()  # the recorded box answers Yes
    window.ask_before_closing = False
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    (text,) = dialogs
    assert text.startswith("2 results are not saved") and text.endswith("Quit anyway?")


def test_save_as_refuses_an_original_before_anything_is_written(
    qtbot, window, tmp_path: Path, dialogs: list[str], monkeypatch
) -> None:
    page = window.upscale
    photos = _three_done(qtbot, window, tmp_path)
    originals = {p: p.read_bytes() for p in photos}
    page.queue.select(photos[0])
    other = tmp_path / "elsewhere" / "result.png"
    other.parent.mkdir()
    other.write_bytes(b"old")
    answers = [str(photos[0]), str(photos[1]), str(other)]
    asked: list[object] = []

    def save_dialog(_parent, _caption, _start, _filter, **kwargs):
        asked.append(kwargs.get("options"))
        return (answers.pop(0) if answers else ""), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    with _status(qtbot, page, "saved"):
        page.save_as_button.click()
    # Qt's own "replace it?" is off: our boxes ask, and refuse the originals first.
    assert all(o == QFileDialog.Option.DontConfirmOverwrite for o in asked) and len(asked) == 3
    refused_own, refused_other, replace = dialogs
    assert "“astronaut.png” is the original photo" in refused_own
    assert "never saves over an original" in refused_own
    assert "“coffee.png” is the original of another image" in refused_other
    assert "“result.png” already exists" in replace and "Replace it?" in replace
    assert {p: p.read_bytes() for p in photos} == originals
    with Image.open(other) as image:  # replaced, as confirmed
        assert image.size == (256, 192)
    assert page.unsaved_count() == 2


def test_save_with_several_selected_saves_each_selected_result(
    qtbot, window, tmp_path: Path, dialogs: list[str]
) -> None:
    page = window.upscale
    photos = _three_done(qtbot, window, tmp_path)
    page.queue.select(photos[0])
    assert page.save_button.text() == "Save"
    page.queue.item(1).setSelected(True)  # astronaut and coffee, chelsea not
    assert [p.name for p in page.queue.selected_paths()] == ["astronaut.png", "coffee.png"]
    # What Save does now is on the button, not only the result on show.
    assert page.save_button.text() == "Save 2" and "2 selected" in page.save_button.toolTip()
    with _status(qtbot, page, "saved 2 results"):
        page.save_button.click()
    assert (photos[0].parent / "astronaut_bicubic_x4.png").exists()
    assert (photos[1].parent / "coffee_bicubic_x4.png").exists()
    assert not (photos[2].parent / "chelsea_bicubic_x4.png").exists()
    assert page.unsaved_count() == 1
    with _status(qtbot, page, "saved already"):
        page.save_button.click()  # nothing saved twice
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=WAIT_MS)
    window.ask_before_closing = True
    window.close()  # the recorded box answers Yes
    window.ask_before_closing = False
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    (text,) = dialogs
    assert text.startswith("1 result is not saved")
