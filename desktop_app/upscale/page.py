"""The main page: the queue of images, the before/after view, the settings, save.

The page is a view: the queue and its jobs live in ``WorkQueue``, saving in ``ResultSaver``.
Every result of an image is kept (per model and size), so the "Before" side can show the
original or another model's result of the same photo.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.jobs import UpscalerPool
from desktop_app.upscale.queue_list import QueueItem, QueueList
from desktop_app.upscale.result_saver import IMAGE_FILTER, ResultSaver, unsaved_count
from desktop_app.upscale.saving import describe, technical_details
from desktop_app.upscale.work_queue import WorkQueue
from desktop_app.widgets.compare_panel import ORIGINAL, ComparePanel
from desktop_app.widgets.compare_view import DROP_HINT
from desktop_app.widgets.desktop_open import selectable
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.widgets.progress_strip import ElidedLabel, ProgressStrip
from desktop_app.widgets.settings_panel import SettingsPanel, in_scroll_area
from desktop_app.widgets.upscale_options import DEFAULT_SUFFIX, UpscaleOptions
from desktop_app.wording import first_upper
from desktop_app.workers import JobRunner

PROBLEM_COLOUR = "#c0392b"
NO_IMAGE_TO_PASTE = (
    "Nothing to paste: the clipboard holds no picture. Copy a picture or image files first."
)


def _buttons(*names: str) -> list[QPushButton]:
    return [QPushButton(name) for name in names]


def _problem(text: str) -> str:
    return f"<span style='color:{PROBLEM_COLOUR}'>{html.escape(first_upper(text))}</span>"


class UpscalePage(QWidget):
    status = Signal(str)  # a line for the status bar

    def __init__(
        self,
        options: UpscaleOptions,
        runner: JobRunner,
        pool: UpscalerPool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.options = options
        self.folders = DialogFolders(options.store)
        self.work = WorkQueue(options, runner, pool, self)
        self.saver = ResultSaver(options, runner, self)
        self.queue = QueueList()
        self.compare = ComparePanel()
        self.settings = SettingsPanel(options)
        self.progress = ProgressStrip()
        # The page's own message line, above the buttons: what went wrong with a save, why
        # Paste did nothing, or where the folder is when no file manager opens it. All of it
        # on as many lines as it needs, selectable: the folder's path is there to be copied,
        # and a shortened line would neither show its end nor paint a selection.
        self.message = ElidedLabel()
        self.message.setObjectName("pageMessage")
        self.message.set_wrapping(True)
        selectable(self.message)
        self.message.hide()
        self._message_kind = ""  # what clears it: "save" (the next save), "add" (an image)
        self.open_button, self.paste_button, self.remove_button = _buttons(
            "Open…", "Paste", "Remove"
        )
        # The action row, left to right, as it is laid out under the splitter.
        self._action_buttons = _buttons(
            "Upscale", "Upscale all", "Save", "Save as…", "Save all", "Show folder"
        )
        (
            self.upscale_button,
            self.upscale_all_button,
            self.save_button,
            self.save_as_button,
            self.save_all_button,
            self.open_folder_button,
        ) = self._action_buttons
        self._build()
        self._connect()
        self._update_buttons()

    def _build(self) -> None:
        self.upscale_button.setDefault(True)
        self.upscale_button.setToolTip("Upscale the selected images with the current settings")
        self.save_button.setToolTip("Save the result on show to the output folder")
        self.save_all_button.setToolTip(
            "Save every result where Save puts it (the Folder setting: next to its original "
            "or the folder chosen there); no file is replaced, none is saved twice"
        )
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.queue, 1)
        # Two rows: the list stays narrow enough for a 1024 px wide window.
        row = QGridLayout()
        row.addWidget(self.open_button, 0, 0)
        row.addWidget(self.paste_button, 0, 1)
        row.addWidget(self.remove_button, 1, 0)
        left_layout.addLayout(row)
        scroll = in_scroll_area(self.settings)
        splitter = QSplitter()
        for widget in (left, self.compare, scroll):
            splitter.addWidget(widget)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 800, 320])
        actions = QHBoxLayout()
        actions.addWidget(self.progress, 1)
        for button in self._action_buttons:
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)

    def _connect(self) -> None:
        self.queue.selectedPath.connect(self._show_item)
        self.queue.itemSelectionChanged.connect(self._update_buttons)
        self.compare.leftChoiceChanged.connect(self._left_choice_changed)
        self.open_button.clicked.connect(self.open_dialog)
        self.paste_button.clicked.connect(self.paste_from_clipboard)
        self.remove_button.clicked.connect(self.remove_selected)
        self.upscale_button.clicked.connect(self.upscale_selected)
        self.upscale_all_button.clicked.connect(self.upscale_all)
        self.save_button.clicked.connect(self.save_current)
        self.save_as_button.clicked.connect(self.save_current_as)
        self.save_all_button.clicked.connect(self.save_all)
        self.open_folder_button.clicked.connect(self.saver.open_folder)
        self.progress.cancelRequested.connect(self.work.cancel)
        work = self.work
        work.added.connect(self._added)
        work.chosen.connect(self._chosen)
        work.changed.connect(self._changed)
        work.started.connect(self._started)
        work.progress.connect(self.progress.show_line)
        work.stopped.connect(self._stopped)
        work.idle.connect(self._update_buttons)
        work.resultReady.connect(self._result_ready)
        work.status.connect(self.status)
        self.saver.status.connect(self.status)
        self.saver.saved.connect(self._saved)
        self.saver.problem.connect(self._save_problem)
        self.saver.itemsChanged.connect(self._save_state_changed)
        # The line under the images says when the model chosen is not the one that made the
        # result on show.
        self.options.changed.connect(self._options_changed)

    # ---- adding images -----------------------------------------------------------------

    def open_dialog(self) -> None:
        files = self.folders.open_files(self, "open images", "Open images", IMAGE_FILTER)
        if files:
            self.add_paths(files)

    def add_paths(self, paths: list[Path]) -> None:
        self.work.add_paths(paths)

    def paste_from_clipboard(self) -> None:
        """Copied files are opened; a copied picture is written to a PNG and queued."""
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime else []
        if files:
            self.add_paths(files)
        elif mime is not None and mime.hasImage():
            self.paste_image(clipboard.image())
        else:
            # On the page only: the status bar saying it again, in other words, read as two
            # different problems.
            self.show_message(NO_IMAGE_TO_PASTE, kind="add")

    def paste_image(self, image: QImage) -> None:
        self.work.paste_image(image)

    def remove_selected(self) -> None:
        for path in self.work.remove(self.queue.selected_paths()):
            self.queue.remove(path)
        self._show_item(self.queue.current_path())

    def upscale_selected(self) -> None:
        current = self.queue.current_path()
        self.work.enqueue(self.queue.selected_paths() or ([current] if current else []))

    def upscale_all(self) -> None:
        # A run that failed on its settings runs again (they may have changed since); only
        # a file that cannot be read is left out.
        self.work.enqueue([p for p, item in self.work.items.items() if item.can_upscale])

    # ---- following the queue -----------------------------------------------------------

    def _added(self, item: QueueItem, _first: bool) -> None:
        self.queue.add(item)
        self._clear_message("add")
        self._update_buttons()

    # ---- the page's message line -------------------------------------------------------

    def show_message(self, text: str, *, kind: str, problem: bool = False) -> None:
        """Show ``text`` on the page until what ``kind`` names happens ("" clears it)."""
        self._message_kind = kind if text else ""
        self.message.setText(first_upper(text))
        self.message.setStyleSheet(f"color: {PROBLEM_COLOUR}" if problem and text else "")
        self.message.setVisible(bool(text))

    def _message_says(self, text: str) -> bool:
        return self.message.isVisibleTo(self) and text.lower() in self.message.text().lower()

    def _clear_message(self, kind: str) -> None:
        if self._message_kind == kind:
            self.show_message("", kind=kind)

    def _save_problem(self, line: str) -> None:
        if line:
            self.show_message(line, kind="save", problem=True)
        else:
            self._clear_message("save")  # saving again

    def _save_state_changed(self, items: list[QueueItem]) -> None:
        for item in items:
            if self.work.items.get(item.source) is not item:
                continue  # removed meanwhile
            self.queue.refresh(item)
            if self.queue.current_path() == item.source:
                self._show_info(item)

    def _chosen(self, path: Path) -> None:
        # What was just dropped, opened or pasted is what the user wants to see and upscale:
        # the only selection, so Upscale does not run the earlier ones again.
        self.queue.select(path)

    def _saved(self, _path: Path) -> None:
        self._update_buttons()

    def _result_ready(self, _outcome: object) -> None:
        self._update_buttons()  # Save all, even while another image is on show

    def _changed(self, item: QueueItem, thumbnail: QImage | None) -> None:
        self.queue.refresh(item, thumbnail=thumbnail)
        # While an image works its progress changes often: redraw only when its original
        # has just been decoded (thumbnail), so the viewer shows it during the upscale.
        if self.queue.current_path() != item.source:
            return
        if item.state != "working" or thumbnail is not None:
            self._show_item(item.source)
        else:
            self._show_info(item)

    def _stopped(self, text: str, complete: bool) -> None:
        self.progress.end(text, complete=complete)

    def _started(self, item: QueueItem) -> None:
        self.progress.begin(f"Upscaling {item.source.name}…")
        self._update_buttons()

    # ---- showing -----------------------------------------------------------------------

    def current_item(self) -> QueueItem | None:
        path = self.queue.current_path()
        return self.work.items.get(path) if path else None

    def _options_changed(self, *_changed: object) -> None:
        item = self.current_item()
        if item is not None:
            self._show_info(item)

    def _show_item(self, path: Path | None) -> None:
        item = self.work.items.get(path) if path else None
        self._update_buttons()
        self.settings.set_source_size(item.input_size if item else None)
        if item is None:
            self.compare.view.set_images(None, None)
            self.compare.view.set_placeholder(DROP_HINT)
            self.compare.set_left_choices([], ORIGINAL)
            self._set_info("", "")
            return
        others = [key for key in item.results if key != item.current]
        self.compare.set_left_choices(others, self.compare.left_current)
        self._show_images(item)
        self._show_info(item)

    def _show_info(self, item: QueueItem) -> None:
        lines = []
        if item.result is not None:
            lines.append(describe(item.result))
            if other := self._other_model_line(item):
                lines.append(other)
        elif item.state == "working":
            lines.append(html.escape(f"{item.source.name}: upscaling…"))
        elif item.state != "failed":
            lines.append(html.escape(f"{item.source.name}: not upscaled yet"))
        if self._unopened(item):
            pass  # the picture area says why, in place of the picture: not a second time
        elif item.state == "failed":
            # Only an unreadable file stays failed; a size or model that did not work can
            # be changed and the photo upscaled again.
            retry = "" if item.unreadable else " Change the settings and press Upscale again."
            lines.append(_problem(item.message.rstrip(".") + "." + retry))
        # Once on screen is enough: the page's message line may already say it.
        if item.save_error and not self._message_says(item.save_error):
            lines.append(_problem(item.save_error))
        tip = technical_details(item.result) if item.result is not None else ""
        self._set_info("<br>".join(lines), tip)

    def _set_info(self, text: str, tooltip: str) -> None:
        # Hidden when empty: an empty line would still take height from the picture.
        self.compare.info.setText(text)
        self.compare.info.setToolTip(tooltip)
        self.compare.info.setVisible(bool(text))

    @staticmethod
    def _unopened(item: QueueItem) -> bool:
        return item.unreadable and item.preview is None

    def _other_model_line(self, item: QueueItem) -> str:
        """When the model menu names another model than the one that made the result on
        show: which made it, and how to get the other (Save saves the one on show)."""
        outcome = item.result
        chosen = self.options.value.model
        made_with = item.specs.get(item.current, "")
        entry = self.options.entry(chosen)
        if outcome is None or entry is None or not made_with or made_with == chosen:
            return ""
        made = outcome.model_title or outcome.model_name
        wanted = entry.label.removesuffix(DEFAULT_SUFFIX)
        return html.escape(
            f"This result was made with {made}; press Upscale to make one with {wanted}."
        )

    def _show_images(self, item: QueueItem) -> None:
        if self._unopened(item):
            # In place of the picture: which file, and why it could not be opened.
            reason = first_upper(item.message.rstrip(".")) + "."
            self.compare.view.set_placeholder(f"{item.source.name} could not be opened.\n{reason}")
        else:
            self.compare.view.set_placeholder(DROP_HINT)
        result, left = item.result, self.compare.left_current
        before, before_label = item.preview, "Original"
        if left != ORIGINAL and left in item.results:
            before, before_label = item.results[left].preview, left
        self.compare.view.set_images(
            before,
            result.preview if result else None,
            before_label=before_label,
            after_label=result.key if result else "",
        )

    def _left_choice_changed(self, _text: str) -> None:
        item = self.current_item()
        if item is not None:
            self._show_images(item)

    def selected_results(self) -> list[QueueItem]:
        """The selected images that have a result (what Save saves when several are)."""
        items = [self.work.items.get(path) for path in self.queue.selected_paths()]
        return [item for item in items if item is not None and item.result is not None]

    def _update_buttons(self) -> None:
        item = self.current_item()
        has_result = item is not None and item.result is not None
        several = len(self.selected_results())
        # With several selected, Save saves each one's result, and says so.
        self.save_button.setText(f"Save {several}" if several > 1 else "Save")
        self.save_button.setToolTip(
            f"Save the results of the {several} selected images to the output folder"
            if several > 1
            else "Save the result on show to the output folder"
        )
        self.save_button.setEnabled(has_result or several > 0)
        self.save_as_button.setEnabled(has_result)
        has_any = any(item.results for item in self.work.items.values())
        self.save_all_button.setEnabled(has_any)
        self.remove_button.setEnabled(bool(self.work.items))
        self.upscale_button.setEnabled(item is not None and item.can_upscale)
        self.upscale_all_button.setEnabled(bool(self.work.items))
        self.open_folder_button.setEnabled(self.saver.last_saved is not None)

    # ---- saving ------------------------------------------------------------------------

    def save_current(self) -> None:
        selected = self.selected_results()
        if len(selected) > 1:
            self.saver.save_many(selected)
            return
        item = self.current_item()
        if item is not None:
            self.saver.save(item)

    def save_current_as(self) -> None:
        item = self.current_item()
        if item is not None:
            self.saver.save_as(self, item, list(self.work.items))

    def save_all(self) -> None:
        self.saver.save_all(list(self.work.items.values()))

    def unsaved_count(self) -> int:
        return unsaved_count(list(self.work.items.values()))

    def shutdown(self) -> None:
        self.work.shutdown()
