"""Screenshots of the phone wizard, its steps driven for real.

``mfagan-studio --screenshot PATH --page phone --step N`` runs steps 1..N on this computer
(the shipped supernet and teacher, the defaults a new user gets, a short fine-tuning) and
renders step N. ``python -m desktop_app.phone.screenshot OUT_DIR [--supernet FILE]`` runs
the wizard once through all six steps and writes ``OUT_DIR/phone-step-N.png`` for each, with
the time each step took. Either way the app's data folder is a scratch one, never the user's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

FINETUNE_STEPS = 20
WAIT_MS = 30 * 60 * 1000


def stage(page, step: int, wait: Callable[[object, int], None],
          capture: Callable[[int, float], None] | None = None) -> None:  # fmt: skip
    """Run steps 1..``step`` (1-based) and leave the wizard on ``step``; ``capture(k, s)`` is
    called with each step k shown and the seconds its job took."""
    wizard = page.wizard
    started = time.monotonic()
    for panel in (wizard.phone.panel, wizard.goal.panel):
        if panel.running:
            wait(panel.ended, WAIT_MS)
    if capture:
        capture(1, time.monotonic() - started)
    actions = (
        (wizard.goal, None),
        (wizard.search, wizard.search.start),
        (wizard.finetune, _finetune(wizard.finetune)),
        (wizard.compare, wizard.compare.run),
        (wizard.export, wizard.export.export),
    )
    for number, (widget, start) in enumerate(actions, start=2):
        if number > step:
            break
        wizard.go(number - 1)
        started = time.monotonic()
        if start is not None:
            start()
            wait(widget.panel.ended, WAIT_MS)
            if widget is wizard.search and "GMACs" not in widget.details.toolTip():
                wait(widget.pointShown, 60_000)
        elif widget.panel.running:
            wait(widget.panel.ended, WAIT_MS)
        if capture:
            capture(number, time.monotonic() - started)
    wizard.go(min(step, 6) - 1)


def _finetune(widget) -> Callable[[], None]:
    def start() -> None:
        widget.steps.setValue(FINETUNE_STEPS)
        widget.start()

    return start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for phone-step-N.png")
    parser.add_argument("--supernet", type=Path, help="supernet file (default: the shipped one)")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="studio-phone-shots-"))
    os.environ["MFAGAN_DATA_DIR"] = str(scratch / "data")
    from PySide6.QtWidgets import QApplication

    from desktop_app.main_window import MainWindow
    from desktop_app.phone.jobs import WizardSetup
    from desktop_app.phone.page import PhonePage
    from desktop_app.qt_app import SCREENSHOT_SIZE, application, wait_for
    from desktop_app.settings import SettingsStore

    application()
    try:
        window = MainWindow(SettingsStore(scratch / "studio.ini"))
        window.ask_before_closing = False
        index = window.tabs.indexOf(window.phone)
        window.tabs.removeTab(index)
        window.phone = PhonePage(window.runner, WizardSetup(supernet=args.supernet))
        window.tabs.insertTab(index, window.phone, "Phone")
        window.resize(SCREENSHOT_SIZE)
        window.show_page("phone")
        window.show()
        args.out.mkdir(parents=True, exist_ok=True)

        def capture(number: int, seconds: float) -> None:
            QApplication.processEvents()
            window.grab().save(str(args.out / f"phone-step-{number}.png"), "PNG")
            print(f"step {number}: {seconds:.1f} s", flush=True)

        stage(window.phone, 6, wait_for, capture)
        window.close()
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
