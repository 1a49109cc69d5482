"""The Retrain page's screenshot after a real short run (docs/screenshots/retrain.png).

    python -m desktop_app.retrain.screenshot PATH [--steps 30]

Six public-domain photos from scikit-image (a dev dependency) and one damaged file go to a
scratch folder; the page counts them, measures this computer, fine-tunes the shipped
student for ``--steps`` steps with the real teacher, and is rendered when the run ends.
Fresh settings and data folders, never the user's; on a busy 2-core CPU about 25 minutes.
``mfagan-studio --screenshot PATH --page retrain`` renders the form alone, in seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")
MINUTE_MS = 60_000


def _stage_photos(folder: Path) -> None:
    from PIL import Image
    from skimage import data

    folder.mkdir(parents=True)
    for name in PHOTOS:
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.png")
    whole = (folder / "coffee.png").read_bytes()
    (folder / "damaged.png").write_bytes(whole[: len(whole) // 3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_app.retrain.screenshot")
    parser.add_argument("path", type=Path)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="studio-shot-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["MFAGAN_DATA_DIR"] = str(scratch / "data")
    os.environ["MFAGAN_CONFIG_DIR"] = str(scratch / "config")
    try:
        return _run(args.path, args.steps, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(path: Path, steps: int, scratch: Path) -> int:
    from desktop_app.main_window import MainWindow
    from desktop_app.qt_app import SCREENSHOT_SIZE, application, wait_for
    from desktop_app.settings import SettingsStore

    _app = application()
    photos = scratch / "My photos"
    _stage_photos(photos)
    window = MainWindow(SettingsStore(scratch / "config" / "studio.ini"))
    window.ask_before_closing = False
    window.resize(SCREENSHOT_SIZE)
    window.show_page("retrain")
    window.show()
    page = window.retrain
    page.set_folders([photos])
    wait_for(page.form.photosCounted, 5 * MINUTE_MS)
    page.form.steps.setValue(steps)
    page.form.measure_button.click()
    wait_for(page.measured, 60 * MINUTE_MS)
    wait_for(page.form.nameChanged, 2000)  # let the measuring job end and the form unlock
    if not page.form.start_button.isEnabled():
        print("the form did not allow a start (see the window's hints)", file=sys.stderr)
        return 1
    page.form.start_button.click()
    wait_for(page.runEnded, 120 * MINUTE_MS)
    wait_for(page.form.nameChanged, 3000)  # the run view and validation picture load
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(path), "PNG")
    window.close()
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
