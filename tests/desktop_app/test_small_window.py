"""The window works at 1024 x 700 (issue 21, item 11): every page fits, nothing is cut.

Squeezed below their minimum, Qt cuts widgets silently ("Side by side" drawn "Sid…ide", the
settings panel's combos and Browse cut off). Here every visible button, combo and one-line
label of each page (and of each Phone wizard step) must get the width it asks for, and
every wrapped label the height its text needs.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app.main_window import PAGES
from desktop_app.widgets.progress_strip import ProgressStrip

SMALL = (1024, 700)


def _scrolls(widget: QWidget, page: QWidget) -> bool:
    """Inside an area that scrolls sideways: there, a wide widget is reachable, not cut."""
    parent = widget.parentWidget()
    while parent is not None and parent is not page:
        if isinstance(parent, QScrollArea) and parent.horizontalScrollBarPolicy() != (
            parent.horizontalScrollBarPolicy().ScrollBarAlwaysOff
        ):
            return True
        parent = parent.parentWidget()
    return False


def cut_widgets(page: QWidget) -> list[str]:
    cut = []
    kinds = (QAbstractButton, QComboBox, QLabel)
    for widget in [w for kind in kinds for w in page.findChildren(kind)]:
        if not widget.isVisibleTo(page) or _scrolls(widget, page):
            continue
        text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
        if isinstance(widget, QLabel):
            if not text or (widget.pixmap() is not None and not widget.pixmap().isNull()):
                continue
            if widget.wordWrap():
                needed = widget.heightForWidth(widget.width())
                if needed > widget.height() + 1:
                    cut.append(f"{text[:40]!r}: {widget.height()} px high of {needed}")
                continue
            if widget.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored:
                continue  # made to shorten itself with "…", the whole text in its tooltip
        needed = widget.minimumSizeHint().width()
        if widget.width() + 1 < needed:
            cut.append(f"{type(widget).__name__} {text[:40]!r}: {widget.width()} of {needed} px")
    return cut


def settle(window) -> None:
    for _ in range(3):
        QApplication.processEvents()
    window.resize(*SMALL)
    for _ in range(3):
        QApplication.processEvents()


def test_every_page_fits_a_1024_by_700_window_uncut(window) -> None:
    window.resize(*SMALL)
    problems = []
    for index, name in enumerate(PAGES):
        window.tabs.setCurrentIndex(index)
        settle(window)
        size = (window.width(), window.height())
        assert size == SMALL, f"the {name} page keeps the window at {size}"
        problems += [f"{name}: {cut}" for cut in cut_widgets(window.tabs.currentWidget())]
    wizard = window.phone.wizard
    for step in range(wizard.stack.count()):
        wizard.stack.setCurrentIndex(step)
        settle(window)
        problems += [f"phone step {step + 1}: {cut}" for cut in cut_widgets(window.phone)]
    assert problems == []


def test_the_upscale_settings_panel_is_never_squeezed(window) -> None:
    window.resize(*SMALL)
    settle(window)
    panel = window.upscale.settings
    assert panel.geometry().width() >= panel.minimumSizeHint().width()  # .width: a field
    for name in ("model", "size", "format", "browse", "backend", "tile"):
        widget = getattr(panel, name)
        assert widget.width() >= widget.minimumSizeHint().width(), name
    compare = window.upscale.compare
    assert compare.side_button.width() >= compare.side_button.sizeHint().width()


def test_how_a_job_ended_is_shown_whole(qtbot) -> None:
    host = QWidget()  # as on a page: the strip in a layout, room below it
    layout = QVBoxLayout(host)
    strip = ProgressStrip()
    layout.addWidget(strip)
    layout.addStretch(1)
    qtbot.addWidget(host)
    host.resize(420, 200)
    host.show()
    strip.begin("Upscaling…")
    ending = (
        "Cancelled after 3 images; finished files are kept and nothing partial was written. "
        "Tick “Skip images…” and start again to resume."
    )
    strip.end(ending)
    qtbot.waitUntil(lambda: strip.text.height() >= strip.text.heightForWidth(strip.text.width()))
    assert strip.text.wordWrap() and strip.text.text() == ending
    strip.begin("Upscaling again…")
    assert not strip.text.wordWrap()  # lines that change while a job runs keep to one line


def test_units_keep_their_capitals_in_progress_lines() -> None:
    from desktop_app.upscale.work_queue import stage_text
    from desktop_app.wording import first_upper

    assert first_upper("tile size auto: 256 (budget 1.2 GiB)").endswith("1.2 GiB)")
    assert first_upper("tile size auto").startswith("Tile")
    assert stage_text("export ONNX") == "Export ONNX"


def test_the_budget_label_is_never_cut_by_the_plot_edge() -> None:
    from desktop_app.phone.pareto_plot import label_x

    assert label_x(100, 80, 400) == 104  # room on the right: beside the line
    x = label_x(380, 80, 400)
    assert x + 80 <= 400 and x < 380  # at the right edge: on the line's left


def test_the_phone_list_wraps_its_long_lines(qtbot, window) -> None:
    window.show_page("phone")
    settle(window)
    phones = window.phone.wizard.phone.list
    qtbot.waitUntil(lambda: phones.count() >= 1, timeout=60_000)
    settle(window)
    room = phones.viewport().width()
    for row in range(phones.count()):
        item = phones.item(row)
        assert phones.visualItemRect(item).width() <= room, item.text()
