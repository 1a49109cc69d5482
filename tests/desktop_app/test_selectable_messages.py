"""Message boxes' text can be selected from the keyboard too (a path, a reason), with the
app's style."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from desktop_app.qt_app import SelectableMessages


def test_a_message_box_text_is_selectable_with_the_apps_style(qtbot) -> None:
    app = QApplication.instance()
    before = app.style().name()
    style = SelectableMessages("Fusion")
    app.setStyle(style)
    try:
        box = QMessageBox(QMessageBox.Icon.Information, "Cannot open the link", "It is at:\n/x/y")
        qtbot.addWidget(box)
        (label,) = [w for w in box.findChildren(QLabel) if w.text().startswith("It is at")]
        flags = label.textInteractionFlags()
        assert flags & Qt.TextInteractionFlag.TextSelectableByMouse
        assert flags & Qt.TextInteractionFlag.TextSelectableByKeyboard
        assert style.baseStyle().name().lower() == "fusion"  # everything else is Fusion's
    finally:
        app.setStyle(before)
