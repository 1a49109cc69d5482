"""Retrain's Measure, greyed without photos, says why and what to do: on the button and in
the estimate line, where the form says what Measure is for."""

from __future__ import annotations

from pathlib import Path

from desktop_app.retrain.form import MEASURE_GREYED, MEASURE_TIP
from tests.desktop_app.helpers import WAIT_MS, fill_retrain_form


def test_a_greyed_measure_says_why_and_what_to_do(qtbot, window, tmp_path: Path) -> None:
    form = window.retrain.form
    window.show_page("retrain")
    with qtbot.waitSignal(form.photosCounted, timeout=WAIT_MS):
        form.set_folders([])
    assert form.photos == 0 and not form.measure_button.isEnabled()
    assert form.measure_button.toolTip() == MEASURE_GREYED
    assert "add a folder of your photos" in MEASURE_GREYED and "2 photos" in MEASURE_GREYED
    estimate = form.estimate.text()
    assert estimate.startswith("Not measured") and MEASURE_GREYED in estimate
    fill_retrain_form(qtbot, window, tmp_path, name="gui-hint", steps=8)
    assert form.measure_button.isEnabled()
    assert form.measure_button.toolTip() == MEASURE_TIP
    estimate = form.estimate.text()
    assert "<b>Measure</b> times" in estimate and MEASURE_GREYED not in estimate
