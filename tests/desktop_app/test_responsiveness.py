"""The UI thread keeps running its event loop while the engine works in workers."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from PySide6.QtCore import QTimer

from tests.desktop_app.helpers import WAIT_MS, save_photo

# What the issue asks for. Measured: about 25 ms at most on the shared 2-core machine under
# a load of 5; a UI thread that decoded or upscaled an image itself would stall for seconds.
MAX_STALL_S = 0.1


def test_event_loop_never_stalls_during_a_batch(qtbot, window, tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    for index in range(4):
        save_photo(source / f"photo{index}.png", box=(300, 400))
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    page = window.batch
    page.input_dir.setText(str(source))
    page.output_dir.setText(str(output))
    timer.start()
    with qtbot.waitSignal(page.batchEnded, timeout=WAIT_MS):
        page.start_button.click()
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 20
    assert max(gaps) < MAX_STALL_S, f"the UI thread stalled for {max(gaps):.3f} s"
    assert len(list(output.iterdir())) == 4
