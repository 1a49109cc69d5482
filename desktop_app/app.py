"""Application set-up, the normal run, and ``--screenshot`` (a page rendered to a PNG)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop_app.crash_log import CrashLog
from desktop_app.qt_app import SCREENSHOT_SIZE, application, wait_for
from engine.paths import RESOURCES

SAMPLE = RESOURCES / "samples" / "astronaut.png"


@dataclass(frozen=True, kw_only=True)
class LaunchOptions:
    images: tuple[Path, ...] = ()
    model: str | None = None
    screenshot: Path | None = None
    page: str = "main"
    step: int = 1  # the phone wizard's step for --page phone


def run(options: LaunchOptions) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = application()
    crashes = CrashLog()
    crashes.install()  # before any window: a crash while building one is logged too
    try:
        if options.screenshot is not None:
            return screenshot(options)
        return _run_window(app, options, crashes)
    finally:
        crashes.uninstall()


def _run_window(app: QApplication, options: LaunchOptions, crashes: CrashLog) -> int:
    from desktop_app.main_window import MainWindow
    from desktop_app.settings import SettingsStore

    window = MainWindow(SettingsStore())
    crashes.crashed.connect(window.show_status)
    if options.model:
        window.options.update(model=options.model)
    window.show()
    if options.images:
        window.open_paths(list(options.images))
    return app.exec()


def screenshot(options: LaunchOptions) -> int:
    """Render a page with the sample image at a fixed size, independent of user settings."""
    from desktop_app.main_window import MainWindow
    from desktop_app.settings import SettingsStore

    assert options.screenshot is not None
    scratch = Path(tempfile.mkdtemp(prefix="studio-screenshot-"))
    if options.page == "phone":  # the wizard keeps its state and models there
        os.environ["MFAGAN_DATA_DIR"] = str(scratch / "data")
    try:
        window = MainWindow(SettingsStore(scratch / "studio.ini"))
        window.ask_before_closing = False
        if options.model:
            window.options.update(model=options.model)
        window.resize(SCREENSHOT_SIZE)
        window.show_page(options.page)
        window.show()
        if options.page == "main":
            window.upscale.add_paths([SAMPLE])
            wait_for(window.upscale.work.idle)
            # 1:1 on the face: at "fit" a 4x result looks like its original.
            view = window.upscale.compare.view
            view.actual_pixels()
            view.center_on(0.43, 0.3)
        elif options.page == "batch":
            _stage_batch(window, scratch)
            wait_for(window.batch.batchEnded)
        elif options.page == "phone":
            from desktop_app.phone.screenshot import stage

            stage(window.phone, options.step, wait_for)
        else:
            window.retrain.set_folders([_stage_photos(scratch / "My photos")])
            wait_for(window.retrain.form.photosCounted, 60_000)
        QApplication.processEvents()
        options.screenshot.parent.mkdir(parents=True, exist_ok=True)
        saved = window.grab().save(str(options.screenshot), "PNG")
        window.close()
        return 0 if saved else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _stage_photos(photos: Path) -> Path:
    """Copies of the sample photos plus one damaged file (a batch lists it as an error,
    Retrain leaves it out of its count); a scratch folder, not the install's path."""
    photos.mkdir(parents=True)
    for sample in sorted(SAMPLE.parent.glob("*.png")):
        shutil.copy(sample, photos / sample.name)
    data = SAMPLE.read_bytes()
    (photos / "damaged.png").write_bytes(data[: len(data) // 3])
    return photos


def _stage_batch(window: object, scratch: Path) -> None:
    """A real batch over the staged photos, to show the results and the error list."""
    photos = _stage_photos(scratch / "photos")
    page = window.batch  # type: ignore[attr-defined]
    page.input_dir.setText(str(photos))
    page.output_dir.setText(str(scratch / "upscaled"))
    page.start()
