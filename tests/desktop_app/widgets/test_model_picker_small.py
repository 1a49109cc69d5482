"""A long model name in the closed model list ends in "…" rather than being cut mid-word
("Phone, shipped (Snapdragon 865 GPU, 15"), and its tooltip has it whole."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionComboBox

from desktop_app.widgets.model_picker import ElidingCombo

LONG = "Phone, shipped (Snapdragon 865 GPU, 15 ms)"


def _field_width(combo: ElidingCombo) -> int:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return (
        combo.style()
        .subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
        )
        .width()
    )


def test_a_long_name_is_elided_not_cut(qtbot) -> None:
    combo = ElidingCombo()
    qtbot.addWidget(combo)
    combo.addItem(LONG)
    combo.resize(160, combo.sizeHint().height())
    combo.show()
    qtbot.waitUntil(combo.isVisible)
    shown = combo.shown_text()
    assert shown.endswith("…") and shown != LONG
    assert combo.fontMetrics().horizontalAdvance(shown) <= _field_width(combo)
    combo.resize(600, combo.height())
    QApplication.processEvents()
    assert combo.shown_text() == LONG  # room enough: the whole name


def test_the_model_list_tooltip_starts_with_the_whole_name(window) -> None:
    from desktop_app.model_names import shown_title
    from engine.models.registry import PHONE_MODELS, list_models

    phone = next(d for d in list_models() if d.name in PHONE_MODELS)
    window.resize(1024, 700)
    window.options.update(model=phone.name)
    QApplication.processEvents()
    combo = window.upscale.settings.model
    assert combo.currentText().startswith(shown_title(phone))
    assert combo.toolTip().startswith(combo.currentText())
    shown = combo.shown_text()
    assert shown == combo.currentText() or shown.endswith("…")
    assert combo.fontMetrics().horizontalAdvance(shown) <= _field_width(combo)
