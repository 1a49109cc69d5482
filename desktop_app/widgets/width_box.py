"""The width box beside the size choice: the width asked for when sizing by width; greyed
otherwise, telling the width the chosen scale gives the photo on show."""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox, QWidget

MIN_WIDTH, MAX_WIDTH = 16, 32768  # what UpscaleSettings.width accepts


class WidthBox(QSpinBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(MIN_WIDTH - 1, MAX_WIDTH)  # the value below the range reads as text
        self.setSuffix(" px")

    def show_setting(self, width: int) -> None:
        """Sizing by width: the box is the setting, editable."""
        self.setEnabled(True)
        self.setMaximum(MAX_WIDTH)
        self.setSpecialValueText("")
        self.setValue(max(width, MIN_WIDTH))
        self.setToolTip("Width of the result; the height keeps the proportions")

    def show_scaled(self, scale: float, result: tuple[int, int] | None) -> None:
        """Sizing by scale: greyed, with the ``result`` size of the photo on show, or a
        note that it depends on each photo (None)."""
        self.setEnabled(False)
        label = f"{scale:g}"
        if result is None:
            self.setSpecialValueText(f"each photo ×{label}")
            self.setValue(self.minimum())
            self.setToolTip("")
            return
        width, height = result
        self.setSpecialValueText("")
        self.setMaximum(max(MAX_WIDTH, width))  # a big photo ×4 is wider than a setting
        self.setValue(width)
        self.setToolTip(f"×{label} makes this photo {width} × {height} px")

    @staticmethod
    def accepts(width: int) -> bool:
        return width >= MIN_WIDTH
