"""PySide6 6.12.0 under Python 3.11 dropped a reference to None on every void call: the
wizard's Pareto plot (hundreds of setPen/drawEllipse a frame) aborted the app with
"deallocating None" during a search. pyproject excludes that version; this keeps it out."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QLabel


def test_void_calls_keep_none_alive(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(200):
        label.setText("x")
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QPointF(4, 4), 2.0, 2.0)
    after = sys.getrefcount(None)
    painter.end()
    assert after - before > -50, f"None lost {before - after} references in 600 void calls"
