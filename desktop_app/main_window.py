"""The window: Upscale, Batch, Retrain and Phone pages, menus, drag-and-drop, paste."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, QSize, Qt, QThreadPool, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QTabWidget, QWidget

from desktop_app import jobs
from desktop_app.about import show_about
from desktop_app.batch.page import BatchPage
from desktop_app.jobs import UpscalerPool
from desktop_app.model_names import DETAILS_LABEL, model_file_message
from desktop_app.phone.page import TAB_TIP, TAB_TITLE, PhonePage
from desktop_app.phone.state import STEPS
from desktop_app.retrain.page import RetrainPage
from desktop_app.settings import SettingsStore, WindowSettings
from desktop_app.upscale.page import UpscalePage
from desktop_app.user_guide import UserGuide, show_user_guide
from desktop_app.widgets.file_dialogs import DialogFolders
from desktop_app.widgets.progress_strip import ElidedLabel
from desktop_app.widgets.upscale_options import UpscaleOptions, entry_for
from desktop_app.wording import in_gui_words
from desktop_app.workers import JobRunner
from engine.models.descriptor import ModelDescriptor
from engine.models.user_models import SUPPORTED_SUFFIXES as MODEL_SUFFIXES

PAGES = ("main", "batch", "retrain", "phone")
STATUS_MS = 15_000  # how long a status line stays
QUIT_TITLE = "Quit MFAGAN Studio?"
MODEL_FAILED_TITLE = "Cannot use this model file"
# How often an open quit question is brought up to date (the runner has no "a job ended"
# signal of its own): a batch that ends while it is open must not stay named in it.
QUIT_REFRESH_MS = 200
MODEL_FILTER = "Model files (" + " ".join(f"*{s}" for s in MODEL_SUFFIXES) + ")"
# The jobs a person started and would lose by quitting, by JobRunner name, in their words.
# The others (previews, counting photos, the Phone tab's warm-up) are seconds long and
# redone on the next start: quitting stops them without asking.
JOB_WORDS = {
    "upscale": "Upscaling on the Upscale page is running",
    "save": "Saving results is running",
    "retrain": "Fine-tuning on your photos (Retrain on my photos) is running",
}


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class MainWindow(QMainWindow):
    def __init__(self, store: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MFAGAN Studio")
        self.setAcceptDrops(True)
        self.store = store
        self.folders = DialogFolders(store)
        self.ask_before_closing = True
        self.user_guide: UserGuide | None = None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(4)
        self.runner = JobRunner(self.pool, self)
        self.upscalers = UpscalerPool()
        self.options = UpscaleOptions(store, self)
        self.upscale = UpscalePage(self.options, self.runner, self.upscalers)
        self.batch = BatchPage(self.options, store, self.runner, self.upscalers)
        self.retrain = RetrainPage(store, self.runner)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.upscale, "Upscale")
        self.tabs.addTab(self.batch, "Batch")
        self.tabs.addTab(self.retrain, "Retrain on my photos")
        self.phone = PhonePage(self.runner)
        phone = self.tabs.addTab(self.phone, TAB_TITLE)
        self.tabs.setTabToolTip(phone, TAB_TIP)
        self.setCentralWidget(self.tabs)
        self._status_bar()
        self._menus()
        for page in (self.upscale, self.batch, self.retrain, self.phone):
            page.status.connect(self.show_status)
        self.upscale.settings.addModelRequested.connect(self.add_model_file)
        self.batch.settings.addModelRequested.connect(self.add_model_file)
        self.retrain.modelRegistered.connect(self._model_registered)
        self.phone.modelRegistered.connect(self._model_registered)
        self.retrain.tryModel.connect(self._try_model)
        self._restore()
        self._open_remembered_models()

    # ---- menus and state ---------------------------------------------------------------

    def _action(self, menu_name: str, text: str, slot: object, shortcut: object = None) -> QAction:
        menu = self._menu_by_name[menu_name]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _menus(self) -> None:
        bar = self.menuBar()
        self._menu_by_name = {name: bar.addMenu(name) for name in ("&File", "&View", "&Help")}
        keys = QKeySequence.StandardKey
        page = self.upscale
        on_page = self._on_upscale_page
        self._action("&File", "&Open images…", on_page(page.open_dialog), keys.Open)
        self._action("&File", "Open &folder…", self._open_folder, "Ctrl+Shift+O")
        self._action("&File", "&Paste image", self.paste, keys.Paste)
        self._action("&File", "&Save result", on_page(page.save_current), keys.Save)
        self._action("&File", "Save result &as…", on_page(page.save_current_as), keys.SaveAs)
        self._action("&File", "Save a&ll results", on_page(page.save_all), "Ctrl+Alt+S")
        self._action("&File", "Add &model file…", self.add_model_file)
        self._action("&File", "&Quit", self.close, keys.Quit)
        compare = page.compare
        self.split_action = self._action("&View", "&Split view", on_page(compare.show_split))
        self.side_action = self._action(
            "&View", "Si&de by side", on_page(compare.show_side_by_side)
        )
        modes = QActionGroup(self)  # exclusive: one mode is on, and the menu ticks it
        for action in (self.split_action, self.side_action):
            action.setCheckable(True)
            modes.addAction(action)
        compare.modeChanged.connect(self._show_mode)
        self._show_mode(compare.view.mode)
        self._action("&View", "&Fit", compare.view.fit, "Ctrl+0")
        self._action("&View", "&1:1 pixels", compare.view.actual_pixels, "Ctrl+1")
        self._action("&Help", "&User guide", self.show_user_guide, keys.HelpContents)
        self._action("&Help", "&About MFAGAN Studio", self.show_about)

    def _on_upscale_page(self, slot: Callable[[], None]) -> Callable[[], None]:
        """A menu command of the Upscale page runs with that page on show: opened from the
        Batch tab, a photo was added and upscaled out of sight, and nothing seemed to happen."""

        def run() -> None:
            self.tabs.setCurrentWidget(self.upscale)
            slot()

        return run

    def _show_mode(self, mode: str) -> None:
        self.split_action.setChecked(mode == "split")
        self.side_action.setChecked(mode == "side")

    def show_about(self) -> None:
        show_about(self, self.store.path)

    def show_user_guide(self) -> None:
        if self.user_guide is not None and self.user_guide.isVisible():
            self.user_guide.raise_()
            self.user_guide.activateWindow()
            return
        self.user_guide = show_user_guide(self)

    def _restore(self) -> None:
        saved = self.store.load(WindowSettings)
        if saved.geometry:
            self.restoreGeometry(QByteArray.fromBase64(saved.geometry.encode()))
        else:
            self.resize(first_size(self.screen().availableGeometry().size()))
        self.tabs.setCurrentIndex(min(max(saved.page, 0), len(PAGES) - 1))
        self.upscale.compare.set_mode(saved.compare_mode)

    def _remember(self) -> None:
        self.store.save(
            WindowSettings(
                geometry=bytes(self.saveGeometry().toBase64().data()).decode(),
                page=self.tabs.currentIndex(),
                compare_mode=self.upscale.compare.view.mode,
            )
        )

    def show_page(self, name: str) -> None:
        self.tabs.setCurrentIndex(PAGES.index(name))

    def _status_bar(self) -> None:
        # QStatusBar.showMessage clips a long line at the right edge; this label shortens it
        # in the middle (the start and the file name at the end stay) with all of it in the
        # tooltip, and never asks the window to be wider.
        self.status_line = ElidedLabel(elide=Qt.TextElideMode.ElideMiddle)
        self.statusBar().addWidget(self.status_line, 1)
        self.status_timer = QTimer(self)
        self.status_timer.setSingleShot(True)
        self.status_timer.setInterval(STATUS_MS)
        self.status_timer.timeout.connect(lambda: self.status_line.setText(""))
        # A model file's job → the "opening …" line it put up, taken down when it ends.
        self._opening: dict[object, str] = {}
        # A line is about the page it came from ("Finished in 3 s" of a batch): another page
        # starts with an empty bar.
        self.tabs.currentChanged.connect(lambda _index: self.status_line.setText(""))

    def show_status(self, text: str) -> None:
        # Every page's line comes here, the engine's notices among them: no flags in it.
        self.status_line.setText(in_gui_words(text))
        self.status_timer.start()  # each new line gets its full time

    # ---- input -------------------------------------------------------------------------

    def _open_folder(self) -> None:
        folder = self.folders.folder(self, "open folder", "Open a folder of images")
        if folder:
            self.open_paths([folder])

    def open_paths(self, paths: list[Path]) -> None:
        """Dropped, opened or given on the command line; a folder on the Batch page is its input."""
        if self.tabs.currentWidget() is self.batch and len(paths) == 1 and paths[0].is_dir():
            self.batch.set_input(paths[0])
            return
        self.tabs.setCurrentWidget(self.upscale)
        self.upscale.add_paths(paths)

    def paste(self) -> None:
        self.tabs.setCurrentWidget(self.upscale)
        self.upscale.paste_from_clipboard()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if local_paths(mime) or mime.hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        paths = local_paths(mime)
        if paths:
            self.open_paths(paths)
        elif mime.hasImage():
            self.tabs.setCurrentWidget(self.upscale)
            self.upscale.paste_image(mime.imageData())
        event.acceptProposedAction()

    # ---- models ------------------------------------------------------------------------

    def add_model_file(self) -> None:
        chosen = self.folders.open_file(
            self, "model file", "Add a model file", MODEL_FILTER, kind="files"
        )
        if chosen:
            self.open_model_file(chosen, select=True)

    def open_model_file(self, path: Path, *, select: bool) -> None:
        handler = self._model_opened_and_selected if select else self._model_opened
        self.show_status(f"opening {path.name}…")
        job = self.runner.start(
            lambda cancel: jobs.user_model_job(path, cancel),
            name="model",
            on_finished=handler,
            on_failed=self._model_failed,
            on_ended=self._model_job_ended,
        )
        # Queued to this thread: the job cannot have ended before this is noted.
        self._opening[job.signals] = self.status_line.text()

    @Slot()
    def _model_job_ended(self) -> None:
        # Left up, "opening x…" would say the file is still being opened after it was added
        # in silence (a remembered model) or refused (in a message box): for up to 15 s.
        # A newer line (such as "model x added") is the current state and stays.
        line = self._opening.pop(self.sender(), None)
        if line is not None and self.status_line.text() == line:
            self.status_line.setText("")
            self.status_timer.stop()

    def _model_opened(self, opened: tuple[Path, ModelDescriptor]) -> None:
        path, descriptor = opened
        self.options.add_model(entry_for(descriptor, spec=str(path)), remember=True)

    def _model_opened_and_selected(self, opened: tuple[Path, ModelDescriptor]) -> None:
        self._model_opened(opened)
        path, descriptor = opened
        self.options.update(model=str(path))
        self.show_status(f"model {entry_for(descriptor, spec=str(path)).label} added")

    def _model_failed(self, reason: str) -> None:
        text, details = model_file_message(reason)
        # The engine's reason ("pickle opcodes outside the safe subset") is for a bug report
        # or an expert: after what a person reads, apart from it.
        if details:
            text += f"\n\n{DETAILS_LABEL} {details}"
        QMessageBox.warning(self, MODEL_FAILED_TITLE, text)

    def _open_remembered_models(self) -> None:
        for spec in self.options.value.user_models:
            path = Path(spec)
            if path.is_file():
                self.open_model_file(path, select=False)
            else:
                self.options.forget_model(spec)
                self.show_status(f"model file {path} is gone; removed from the list")

    def _model_registered(self, name: str) -> None:
        self.options.reload_builtins()
        self.show_status(f"new model “{name}” is in the model list")

    def _try_model(self, name: str) -> None:
        self.options.update(model=name)
        self.tabs.setCurrentWidget(self.upscale)

    # ---- closing -----------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.ask_before_closing and not self._confirm_close():
            event.ignore()
            return
        self._remember()
        self.runner.cancel_all()
        self.runner.wait(5000)
        self.upscale.shutdown()
        event.accept()

    def running_jobs(self) -> list[str]:
        """Each running job that quitting would stop, named as its page shows it."""
        found: list[str] = []
        for name in self.runner.running_names():
            if name == "batch":
                found.append(self.batch.job_description() or "A batch upscale is running")
            elif name == "phone wizard":
                found += self._phone_jobs()
            elif name in JOB_WORDS:
                found.append(JOB_WORDS[name])
        return found

    def _phone_jobs(self) -> list[str]:
        phone = self.phone
        steps = [
            (f"Phone tab, step {number} “{title}”,", step)
            for number, (title, step) in enumerate(zip(STEPS, phone.wizard.steps, strict=True), 1)
        ]
        steps += [("Phone tab, “Search (advanced)”,", phone.search)]
        steps += [("Phone tab, “Export (advanced)”,", phone.export_page)]
        panels = [(where, getattr(step, "panel", None)) for where, step in steps]
        running = [(where, panel) for where, panel in panels if getattr(panel, "running", False)]
        if not running:
            return ["Work on the Phone tab is running"]
        return [f"{where} is running" for where, panel in running if not panel.quiet]

    def quit_reasons(self) -> str:
        """What quitting now would lose, in words ("" when nothing)."""
        reasons = []
        running = self.running_jobs()
        if running:
            stops = "Quitting stops it." if len(running) == 1 else "Quitting stops them."
            reasons.append("\n".join(f"{line}." for line in running) + f"\n{stops}")
        unsaved = self.upscale.unsaved_count()
        if unsaved == 1:
            reasons.append("1 result is not saved (File ▸ Save all results saves it).")
        elif unsaved:
            reasons.append(f"{unsaved} results are not saved (File ▸ Save all results).")
        return "\n".join(reasons) + "\n\nQuit anyway?" if reasons else ""

    def _confirm_close(self) -> bool:
        text = self.quit_reasons()
        if not text:
            return True
        timer = QTimer(self)
        timer.setInterval(QUIT_REFRESH_MS)
        timer.timeout.connect(self._refresh_quit_question)
        timer.start()
        try:
            answer = QMessageBox.question(self, QUIT_TITLE, text)
        finally:
            timer.stop()
            timer.deleteLater()
        return answer == QMessageBox.StandardButton.Yes

    def _refresh_quit_question(self) -> None:
        """Keep the open question true: the jobs that ended since leave it, and once nothing
        is left to lose it answers itself Yes (quitting is what was asked)."""
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.windowTitle() != QUIT_TITLE:
            return
        text = self.quit_reasons()
        if not text:
            # A click, not done(): QMessageBox.question answers with the clicked button.
            box.button(QMessageBox.StandardButton.Yes).click()
        elif text != box.text():
            box.setText(text)


def first_size(available: QSize) -> QSize:
    """The window's size on first start: roomy, but never larger than the screen it opens on
    (a 1320x820 window on a 1280x800 laptop screen hid its buttons below the edge)."""
    return QSize(min(1320, available.width()), min(820, available.height()))
