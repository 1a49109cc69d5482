"""The QApplication, and what the app's screenshot scripts share with it: the window size
pictures are taken at and a bounded wait on a signal.

A leaf module: the app, ``retrain_screenshot`` and ``phone.screenshot`` all import it, and
it imports none of them.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QEventLoop, QSize, Qt, QTimer
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

SCREENSHOT_SIZE = QSize(1320, 820)
SCREENSHOT_TIMEOUT_MS = 15 * 60 * 1000  # the teacher takes minutes on a slow computer


class SelectableMessages(QProxyStyle):
    """Fusion, with every message box's text selectable from the keyboard as well as the
    mouse: a box that says where a file is (or why it failed) is read to copy that path or
    reason elsewhere, and Fusion's own hint leaves the keyboard out of Qt's static boxes
    (``QMessageBox.information`` and kin), whose labels the app cannot reach."""

    def styleHint(self, hint, option=None, widget=None, returnData=None) -> int:
        if hint == QStyle.StyleHint.SH_MessageBox_TextInteractionFlags:
            flags = Qt.TextInteractionFlag.TextSelectableByMouse
            return (flags | Qt.TextInteractionFlag.TextSelectableByKeyboard).value
        return super().styleHint(hint, option, widget, returnData)


def application() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("MFAGAN Studio")
    app.setOrganizationName("MFAGAN")
    app.setStyle(SelectableMessages("Fusion"))
    return app


def wait_for(signal: object, timeout_ms: int = SCREENSHOT_TIMEOUT_MS) -> None:
    """Run the event loop until ``signal`` fires or ``timeout_ms`` passes."""
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
