"""The UI thread keeps its event loop running while the wizard searches and fine-tunes."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from desktop_app.phone.page import PhonePage
from desktop_app.phone.state import WizardState, save_state
from desktop_app.workers import JobRunner

WAIT_MS = 120_000
MAX_STALL_S = 0.05  # what the issue asks for
# On an overloaded computer the OS can preempt the worker while it holds the GIL (any
# Python it runs), stalling the UI thread for the length of the preemption whatever the app
# does. Measured on the shared 2-core box at a load average of 9 with this test's timer:
# worst gap 165 ms, 99th percentile 35 ms (782 ms before the warm-up froze the objects of
# the imports out of the garbage collector); at load 16, 1-2 s. The check means something
# only on a computer that is not overloaded.
BUSY = os.getloadavg()[0] > 2 * (os.cpu_count() or 1)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.skipif(BUSY, reason="this computer is too loaded to time the UI thread")
def test_ui_thread_never_stalls_during_search_and_finetuning(qtbot, setup, tmp_path: Path):
    folder = tmp_path / "wizard"
    save_state(WizardState(step=2, device="snapdragon-865", unit="gpu", tile=32, goal="video",
                           video_width=64, video_height=64, fps=5.0), folder)  # fmt: skip
    page = PhonePage(JobRunner(), setup, folder)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.warmed, timeout=WAIT_MS):  # first-use imports, off the jobs
        page.show()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    wizard = page.wizard
    with qtbot.waitSignal(wizard.search.panel.ended, timeout=WAIT_MS):
        wizard.search.start_button.click()
    wizard.next.click()
    wizard.finetune.steps.setValue(4)
    with qtbot.waitSignal(wizard.finetune.panel.ended, timeout=WAIT_MS):
        wizard.finetune.start_button.click()
    timer.stop()
    assert page.ctx.state.model_name
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 50
    assert max(gaps) < MAX_STALL_S, f"the UI thread stalled for {max(gaps) * 1000:.0f} ms"
