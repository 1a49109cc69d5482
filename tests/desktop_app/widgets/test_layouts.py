"""The shared layout pieces: a row whose first widget takes the spare width, a titled box."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from desktop_app.widgets.layouts import boxed, wide_row


def test_wide_row_stretches_only_the_first_widget(qtbot) -> None:
    edit, button = QLineEdit(), QPushButton("Browse…")
    row = wide_row(edit, button)
    assert [row.itemAt(i).widget() for i in range(row.count())] == [edit, button]
    assert [row.stretch(i) for i in range(row.count())] == [1, 0]


def test_boxed_holds_the_widget_under_its_title(qtbot) -> None:
    label = QLabel("inside")
    box = boxed("Losses", label)
    qtbot.addWidget(box)
    assert box.title() == "Losses"
    assert label.parent() is box
