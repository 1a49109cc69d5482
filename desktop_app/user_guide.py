"""Help ▸ User guide: the README's part for people using the app, in a window of its own.

The README is the user guide (set-up, the pages); from its "Command line" section on it is
for the terminal and the project, so that part is left out. The documents it links to (the
Phone tab step by step in docs/PHONES.md) open in the same window, at the linked heading;
pictures become links, as at full size they would not fit. A window rather than a file
manager or browser, which may not be installed: where the README itself is missing (an
installation built without it) a message says so and where to read it.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.paths import RESOURCES

README = RESOURCES.parent / "README.md"
END_OF_USER_PART = "## Command line"
_PICTURE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")


def pictures_as_links(markdown: str) -> str:
    return _PICTURE.sub(r"[Picture: \1](\2)", markdown)


def user_part(markdown: str) -> str:
    """The README up to its command-line part, each picture a link to its file."""
    return pictures_as_links(markdown.split(f"\n{END_OF_USER_PART}", 1)[0])


def _slug(heading: str) -> str:
    """A heading as GitHub names its anchor: "Compress for my phone" -> "compress-for-my-phone"."""
    words = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return words.replace(" ", "-")


class UserGuide(QDialog):
    def __init__(self, readme: Path, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MFAGAN Studio user guide")
        self.readme, self._text = readme, text
        self.browser = QTextBrowser()
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
        self._show_markdown(self.readme, user_part(self._text))
        self.back.setVisible(False)

    def _show_markdown(self, path: Path, markdown: str) -> None:
        self.browser.document().setBaseUrl(QUrl.fromLocalFile(f"{path.parent}/"))
        self.browser.setMarkdown(markdown)

    def _open_link(self, url: QUrl) -> None:
        if not url.path() and url.hasFragment():
            self._show_heading(url.fragment())
            return
        target = self.browser.document().baseUrl().resolved(url) if url.isRelative() else url
        if target.isLocalFile() and target.path().endswith(".md"):
            self._open_document(Path(target.toLocalFile()), target.fragment())
            return
        if not QDesktopServices.openUrl(target):
            QMessageBox.information(
                self,
                "Cannot open the link",
                f"No program on this computer opens it:\n{target.toDisplayString()}",
            )

    def _open_document(self, path: Path, anchor: str) -> None:
        try:
            markdown = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            QMessageBox.information(self, "Cannot open the page", f"{path}: {error}")
            return
        self._show_markdown(path, pictures_as_links(markdown))
        self.back.setVisible(True)
        if anchor:
            self._show_heading(anchor)

    def _show_heading(self, anchor: str) -> None:
        block = self.browser.document().begin()
        while block.isValid():
            if block.blockFormat().headingLevel() and _slug(block.text()) == anchor:
                cursor = QTextCursor(block)
                self.browser.setTextCursor(cursor)
                self.browser.ensureCursorVisible()
                return
            block = block.next()


def show_user_guide(parent: QWidget, readme: Path | None = None) -> UserGuide | None:
    """Open the guide (not modal: it stays beside the window), or say why it cannot."""
    readme = readme if readme is not None else README
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = "is not part of this installation" if not readme.exists() else f"({error})"
        QMessageBox.information(
            parent,
            "User guide",
            f"The user guide cannot be opened: {readme} {reason}.\n\n"
            "It is the README of MFAGAN Studio's source, from “Set-up” to "
            "“Compress for my phone”.",
        )
        return None
    guide = UserGuide(readme, text, parent)
    guide.show()
    return guide
