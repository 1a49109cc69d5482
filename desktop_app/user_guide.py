"""Help ▸ User guide: docs/GUIDE.md, the guide for people using the app, in a window of its own.

Not the README: that one is for a source checkout (set-up, the command line, the project's
measurements). Pictures are shown in the text, scaled down to the window's width, so no
image viewer is needed. A window rather than a file manager or browser, which may not be
installed: every link either opens in it (a heading, a page, a picture) or a message says
why it cannot and where the file is. Where the guide itself is missing (an installation
built without it) a message says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QDesktopServices,
    QImage,
    QResizeEvent,
    QTextCursor,
    QTextDocument,
    QTextFragment,
    QTextImageFormat,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.widgets.desktop_open import open_on_desktop
from engine.paths import RESOURCES

GUIDE = RESOURCES.parent / "docs" / "GUIDE.md"
_PICTURE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp")
# Room the text frame and a vertical scroll bar take beside a picture.
PICTURE_MARGIN = 24


def missing_pictures_as_text(markdown: str, folder: Path) -> str:
    """Each picture whose file is not there becomes a line saying so (never a broken icon)."""

    def replace(match: re.Match[str]) -> str:
        path = (folder / match.group(2)).resolve()
        if path.is_file() and not QImage(str(path)).isNull():
            return match.group(0)
        return f"*(Picture “{match.group(1)}” is not part of this installation: {path})*"

    return _PICTURE.sub(replace, markdown)


def _slug(heading: str) -> str:
    """A heading as GitHub names its anchor: "Batch: a whole folder" -> "batch-a-whole-folder"."""
    words = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return words.replace(" ", "-")


def fragments(document: QTextDocument) -> Iterator[QTextFragment]:
    """The document's runs of text (and pictures) of one format each, in order."""
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            yield it.fragment()
            it += 1
        block = block.next()


def links(document: QTextDocument) -> list[str]:
    """Every link target in the document, in order, each once."""
    hrefs = (fragment.charFormat().anchorHref() for fragment in fragments(document))
    return list(dict.fromkeys(href for href in hrefs if href))


class GuideBrowser(QTextBrowser):
    """A text browser whose pictures follow its width: never wider than the window, never
    larger than they are."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sizes: dict[str, tuple[int, int]] = {}

    def show_markdown(self, folder: Path, markdown: str) -> None:
        self._sizes = {}
        document = self.document()
        document.setBaseUrl(QUrl.fromLocalFile(f"{folder}/"))
        self.setMarkdown(missing_pictures_as_text(markdown, folder))
        for name in self._picture_names():
            image = QImage(str(folder / name))
            document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
            self._sizes[name] = (image.width(), image.height())
        self.fit_pictures()

    def _picture_names(self) -> list[str]:
        return [fmt.name() for _, _, fmt in self._pictures()]

    def _pictures(self) -> list[tuple[int, int, QTextImageFormat]]:
        """Each picture as (position, length, format)."""
        return [
            (fragment.position(), fragment.length(), fragment.charFormat().toImageFormat())
            for fragment in fragments(self.document())
            if fragment.charFormat().isImageFormat()
        ]

    def picture_widths(self) -> list[float]:
        return [fmt.width() for _, _, fmt in self._pictures()]

    def fit_pictures(self) -> None:
        room = max(self.viewport().width() - PICTURE_MARGIN, 64)
        cursor = QTextCursor(self.document())
        for position, length, fmt in self._pictures():
            width, height = self._sizes.get(fmt.name(), (0, 0))
            if not width:
                continue
            shown = min(width, room)
            fmt.setWidth(shown)
            fmt.setHeight(height * shown / width)
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(fmt)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._sizes:
            self.fit_pictures()


class UserGuide(QDialog):
    def __init__(self, guide: Path, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MFAGAN Studio user guide")
        self.guide, self._text = guide, text
        self.browser = GuideBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._open_link)
        self.back = QPushButton("Back to the guide")
        self.back.clicked.connect(self.show_guide)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.back, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(820, 680)
        self.show_guide()

    def show_guide(self) -> None:
        self.browser.show_markdown(self.guide.parent, self._text)
        self.back.setVisible(False)

    def _open_link(self, url: QUrl) -> None:
        if not url.path() and url.hasFragment():
            if not self._show_heading(url.fragment()):
                self._cannot_open(f"This page has no part called “{url.fragment()}”.")
            return
        target = self.browser.document().baseUrl().resolved(url) if url.isRelative() else url
        if target.isLocalFile():
            self._open_file(Path(target.toLocalFile()), target.fragment())
        elif not QDesktopServices.openUrl(target):
            self._cannot_open(
                f"No program on this computer opens web pages. The address is:\n"
                f"{target.toDisplayString()}"
            )

    def _open_file(self, path: Path, anchor: str) -> None:
        if path.suffix.lower() == ".md":
            self._open_document(path, anchor)
        elif path.suffix.lower() in PICTURE_SUFFIXES and path.is_file():
            self._show_page(path.parent, f"![{path.name}]({path.name})")
        elif not path.exists():
            self._cannot_open(f"The file is not part of this installation:\n{path}")
        elif problem := open_on_desktop(
            path, "No program on this computer opens this file. It is at:\n{path}"
        ):
            self._cannot_open(problem)

    def _cannot_open(self, text: str) -> None:
        QMessageBox.information(self, "Cannot open the link", text)

    def _open_document(self, path: Path, anchor: str) -> None:
        try:
            markdown = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self._cannot_open(f"The page cannot be read ({error}). It is at:\n{path}")
            return
        self._show_page(path.parent, markdown)
        if anchor:
            self._show_heading(anchor)

    def _show_page(self, folder: Path, markdown: str) -> None:
        self.browser.show_markdown(folder, markdown)
        self.back.setVisible(True)

    def _show_heading(self, anchor: str) -> bool:
        document = self.browser.document()
        block = document.begin()
        while block.isValid():
            if block.blockFormat().headingLevel() and _slug(block.text()) == anchor:
                self.browser.setTextCursor(QTextCursor(block))
                top = document.documentLayout().blockBoundingRect(block).top()
                self.browser.verticalScrollBar().setValue(int(top))
                return True
            block = block.next()
        return False


def show_user_guide(parent: QWidget, guide: Path | None = None) -> UserGuide | None:
    """Open the guide (not modal: it stays beside the window), or say why it cannot."""
    guide = guide if guide is not None else GUIDE
    try:
        text = guide.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = "is not part of this installation" if not guide.exists() else f"({error})"
        QMessageBox.information(
            parent, "User guide", f"The user guide cannot be opened: {guide} {reason}."
        )
        return None
    dialog = UserGuide(guide, text, parent)
    dialog.show()
    return dialog
