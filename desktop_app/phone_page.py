"""The place kept for the phone features of a later release: it says so, and shows nothing else."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

TAB_TITLE = "Phone (later)"
TAB_TIP = "Search a phone-sized model, export it and compress it for a phone: not available yet"

TEXT = """<h3>Phone: not available yet</h3>
<p>A later release adds here: searching a model sized for a given phone, exporting it
(ONNX / TFLite) and a “compress for my phone” wizard.</p>
<p>Nothing on this page works yet; the Upscale, Batch and Retrain pages do.</p>"""


class PhonePage(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        label = QLabel(TEXT)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
