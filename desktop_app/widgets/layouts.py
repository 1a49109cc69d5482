"""Small layout pieces several pages share."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QVBoxLayout, QWidget


def wide_row(wide: QWidget, *rest: QWidget) -> QHBoxLayout:
    """A row where the first widget takes the spare width and the rest keep their size
    (a path or text field and its button, a slider and its value)."""
    row = QHBoxLayout()
    row.addWidget(wide, 1)
    for widget in rest:
        row.addWidget(widget)
    return row


def boxed(title: str, widget: QWidget) -> QGroupBox:
    """A titled group box holding one widget."""
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(widget)
    return box
