"""Model files the user adds: listed, selected, used, remembered; bad files explained."""

from __future__ import annotations

from pathlib import Path

import torch

from desktop_app.settings import SettingsStore
from desktop_app.staging import load_staged
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig
from tests.desktop_app.helpers import WAIT_MS


def tiny_esrgan(path: Path) -> Path:
    """An ESRGAN-family .pth (what Upscayl and chaiNNer users download), tiny and random."""
    torch.manual_seed(0)
    net = RRDBNet(RRDBNetConfig(num_block=1, num_feat=8))
    torch.save(net.state_dict(), path)
    return path


def test_added_model_file_is_selected_used_and_remembered(
    qtbot, make_window, store: SettingsStore, photo: Path, tmp_path: Path, dialogs: list[str]
) -> None:
    model = tiny_esrgan(tmp_path / "my-esrgan.pth")
    window = make_window(store)
    window.open_model_file(model, select=True)
    qtbot.waitUntil(
        lambda: window.options.value.model == str(model) or bool(dialogs), timeout=WAIT_MS
    )
    assert not dialogs
    combo = window.upscale.settings.model
    assert combo.currentData() == str(model) and "my-esrgan.pth" in combo.currentText()
    assert window.batch.settings.model.currentData() == str(model)
    with qtbot.waitSignal(window.upscale.work.resultReady, timeout=WAIT_MS) as result:
        window.upscale.add_paths([photo])
    assert result.args[0].model_name == "my-esrgan"
    assert load_staged(result.args[0].staged).pixels.shape[1::-1] == (256, 192)
    window.close()

    reopened = make_window(SettingsStore(store.path))
    qtbot.waitUntil(lambda: reopened.options.entry(str(model)) is not None, timeout=WAIT_MS)
    assert reopened.options.value.user_models == (str(model),)


def test_a_file_that_is_not_a_model_is_refused_with_the_reason(
    qtbot, window, tmp_path: Path, dialogs: list[str]
) -> None:
    bad = tmp_path / "notes.pth"
    bad.write_bytes(b"not a checkpoint at all")
    window.open_model_file(bad, select=True)
    qtbot.waitUntil(lambda: bool(dialogs), timeout=WAIT_MS)
    assert "notes.pth" in dialogs[0] and "Traceback" not in dialogs[0]
    assert window.options.entry(str(bad)) is None
    assert window.options.value.model == "bicubic"


def test_no_speed_here_is_quoted_for_a_width_target(window) -> None:
    """A width target's time follows the enlargement each photo needs, not its pixels: the
    "Here: ..." line must not extrapolate it (a 128-px photo made 1000 px wide read as 22 s
    for a 512-px photo)."""
    options = window.options
    options.update(size_mode="scale", scale=4)
    options.speeds.record(options.current_speed_key(), 100 * 100, 1.0)
    assert options.seconds_here(200 * 200) == 4.0
    options.update(size_mode="width", width=1000)
    options.speeds.record(options.current_speed_key(), 128 * 128, 1.4)
    assert options.seconds_here(512 * 512) is None
    assert "Here:" not in window.upscale.settings.model_about.text()
