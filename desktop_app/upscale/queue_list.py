"""The list of queued images: a thumbnail, the file name, and where each image stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from desktop_app.jobs import UpscaleOutcome
from desktop_app.widgets.images import THUMBNAIL_SIDE

State = Literal["loading", "queued", "working", "done", "failed", "cancelled"]
PATH_ROLE = Qt.ItemDataRole.UserRole
ICON_SIDE = 56


@dataclass(kw_only=True)
class QueueItem:
    """One image of the queue; results are kept per model and size, so they can be compared."""

    source: Path
    state: State = "loading"
    message: str = ""
    preview: QImage | None = None
    input_size: tuple[int, int] | None = None
    results: dict[str, UpscaleOutcome] = field(default_factory=dict)
    saved: dict[str, Path] = field(default_factory=dict)  # result key + target -> saved file
    current: str = ""  # key of the result on show
    # Result key -> the model menu's spec that made it: the page says so when the menu has
    # moved on to another model since.
    specs: dict[str, str] = field(default_factory=dict)
    # The file itself could not be read (its preview failed): another run would fail the
    # same way. A run that failed on the settings never sets this: it may run again.
    unreadable: bool = False
    save_error: str = ""  # why its last save failed, in one line; "" once saving again

    @property
    def can_upscale(self) -> bool:
        return not self.unreadable

    @property
    def result(self) -> UpscaleOutcome | None:
        return self.results.get(self.current)

    def status_text(self) -> str:
        """The row's second line, short enough for the list of a 1024 px wide window; the
        whole of a reason is in the row's tooltip and under the images."""
        size = f"{self.input_size[0]}×{self.input_size[1]}" if self.input_size else ""
        results = len(self.results)
        words = {
            "loading": "opening…",
            "queued": f"{size} · waiting" if results == 0 else f"{size} · queued",
            "working": f"{size} · {self.message or 'working…'}",
            "done": f"{size} · done" + (f" ({results})" if results > 1 else ""),
            "failed": "failed: " + _short(self.message),
            "cancelled": f"{size} · stopped",
        }
        if self.state == "done" and self.save_error:
            return f"{size} · not saved"
        return words[self.state]

    def tooltip(self) -> str:
        lines = [str(self.source)]
        if self.state == "failed":
            lines.append(self.message)
        elif self.state == "done" and len(self.results) > 1:
            lines.append(f"{len(self.results)} results (models or sizes) to compare")
        if self.save_error:
            lines.append(self.save_error)
        return "\n".join(lines)

    @property
    def has_problem(self) -> bool:
        return self.state == "failed" or bool(self.save_error)


def _short(text: str, limit: int = 26) -> str:
    """The start of a reason: its first clause, cut to what the list shows."""
    for stop in (" (", "; "):
        text = text.split(stop, 1)[0]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _placeholder_icon() -> QIcon:
    pixmap = QPixmap(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setPen(QColor(128, 128, 128))
    painter.drawRoundedRect(4, 4, THUMBNAIL_SIDE - 8, THUMBNAIL_SIDE - 8, 6, 6)
    painter.end()
    return QIcon(pixmap)


class QueueList(QListWidget):
    """Thumbnails with two lines of text; ``selectedPath`` follows the current row."""

    selectedPath = Signal(object)  # Path | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setMinimumWidth(180)
        self._placeholder = _placeholder_icon()
        self.currentItemChanged.connect(self._current_changed)

    def _row_of(self, path: Path) -> QListWidgetItem | None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(PATH_ROLE) == str(path):
                return item
        return None

    def add(self, entry: QueueItem) -> None:
        row = QListWidgetItem(self._placeholder, "")
        row.setData(PATH_ROLE, str(entry.source))
        row.setToolTip(str(entry.source))
        self.addItem(row)
        self.refresh(entry)
        if self.currentItem() is None:
            self.setCurrentItem(row)

    def refresh(self, entry: QueueItem, *, thumbnail: QImage | None = None) -> None:
        row = self._row_of(entry.source)
        if row is None:
            return
        row.setText(f"{entry.source.name}\n{entry.status_text()}")
        row.setToolTip(entry.tooltip())
        if thumbnail is not None:
            row.setIcon(QIcon(QPixmap.fromImage(thumbnail)))
        if entry.has_problem:
            row.setForeground(QColor(200, 60, 60))
        else:
            row.setData(Qt.ItemDataRole.ForegroundRole, None)

    def remove(self, path: Path) -> None:
        row = self._row_of(path)
        if row is not None:
            self.takeItem(self.row(row))

    def select(self, path: Path) -> None:
        """Make this image the current one and the only one selected.

        A plain ``setCurrentItem`` in extended-selection mode adds to what is selected, and
        Upscale would then run every image selected before too.
        """
        row = self._row_of(path)
        if row is not None:
            self.setCurrentItem(row, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def selected_paths(self) -> list[Path]:
        return [Path(item.data(PATH_ROLE)) for item in self.selectedItems()]

    def current_path(self) -> Path | None:
        item = self.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self.selectedPath.emit(Path(current.data(PATH_ROLE)) if current is not None else None)
