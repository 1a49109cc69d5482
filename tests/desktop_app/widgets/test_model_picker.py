"""The model list speaks to people: a name and a one-line description with measured speed
and quality; the architecture and config are in the tooltip."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop_app.model_names import plain_description, shown_title
from desktop_app.widgets.model_picker import ModelPicker
from desktop_app.widgets.upscale_options import UpscaleOptions
from engine.models.registry import list_models


def test_model_list_shows_names_for_people_and_config_in_tooltips(window) -> None:
    panel = window.upscale.settings
    combo = panel.model
    builtins = {d.name: d for d in list_models()}
    shown = {}
    for index in range(combo.count()):
        spec = combo.itemData(index)
        if spec in builtins:
            shown[spec] = (combo.itemText(index), combo.itemData(index, 3))  # 3: ToolTipRole
    assert set(shown) == set(builtins)
    for name, (label, tooltip) in shown.items():
        descriptor = builtins[name]
        assert "-conv-" not in label and "num_block" not in label
        assert label.startswith(shown_title(descriptor))  # shipped or yours: said
        # Plain words first, the scores behind them next (issue 21, item 10), then the config.
        plain, details = plain_description(descriptor.description)
        assert plain in tooltip and details in tooltip and descriptor.details() in tooltip
    assert shown["realesrgan-x4plus"][0].startswith("Best quality")
    assert "s for a 512×512 photo" in builtins["realesrgan-x4plus"].description
    assert "s for a 512×512 photo" in builtins["bicubic"].description


def test_the_chosen_model_is_described_in_one_line(window) -> None:
    window.options.update(model="bicubic")
    panel = window.upscale.settings
    about = panel.model_about.text()
    assert about.startswith("No AI") and "\n" not in about
    assert "bicubic · bicubic · ×4" in panel.model.toolTip()


@pytest.fixture
def windows_style() -> Iterator[None]:
    """Qt's Windows style opens a combo's list only as wide as the box (Fusion widens it)."""
    previous = QApplication.style().name()
    QApplication.setStyle("Windows")
    yield
    QApplication.setStyle(previous)


def test_the_open_model_list_shows_whole_names(qtbot, store, windows_style) -> None:
    """A narrow settings column cut "Phone, shipped (Snapdragon 865 GPU, 15…" in the list."""
    options = UpscaleOptions(store)
    picker = ModelPicker(options)
    qtbot.addWidget(picker)
    picker.show()
    combo = picker.combo
    combo.setFixedWidth(140)
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible)
    metrics = view.fontMetrics()
    labels = [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]
    widest = max(metrics.horizontalAdvance(label) for label in labels)
    assert view.viewport().width() > widest
    assert view.textElideMode() == Qt.TextElideMode.ElideNone
    combo.hidePopup()
    # Each row's tooltip starts with its whole name, too.
    for index in range(combo.count()):
        if combo.itemData(index) in {e.spec for e in options.models}:
            assert combo.itemData(index, 3).startswith(combo.itemText(index))  # 3: ToolTipRole
