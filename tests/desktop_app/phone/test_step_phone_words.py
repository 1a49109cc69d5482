"""Step 1's phone list says where a model runs in words; the runtime, precision code and
data release stay in the tooltip."""

from __future__ import annotations

import pytest

from desktop_app.phone.step_phone import describe, describe_details
from engine.phones.catalog import list_profiles


@pytest.mark.parametrize("profile", list_profiles(), ids=lambda p: p.name)
def test_each_phone_line_is_in_words_and_its_tooltip_keeps_the_facts(profile) -> None:
    line = describe(profile)
    assert "runs on its " in line
    for code in ("w8a8", "w8a16", "TFLite", "QNN", "qai-hub-models", "timed networks"):
        assert code not in line, (code, line)
    if profile.fit_quality is not None:
        assert profile.default_column.title in describe_details(profile)


def test_runs_on_choices_are_in_words_keyed_by_their_ids(qtbot, tmp_path) -> None:
    from PySide6.QtCore import Qt

    from desktop_app.phone.context import WizardContext
    from desktop_app.phone.jobs import WizardSetup
    from desktop_app.phone.step_phone import PhoneStep
    from desktop_app.workers import JobRunner

    ctx = WizardContext(JobRunner(), WizardSetup(), tmp_path / "wizard")
    step = PhoneStep(ctx)
    qtbot.addWidget(step)
    qtbot.waitUntil(lambda: step.target.count() > 0, timeout=60_000)
    step.select("snapdragon-865")
    combo = step.target
    shown = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert shown[("gpu", "w8a8")] == "Graphics chip (GPU), 8-bit numbers"
    tips = [combo.itemData(i, Qt.ItemDataRole.ToolTipRole) for i in range(combo.count())]
    assert "GPU, w8a8" in tips  # the technical form stays, in the item's tooltip
    for text in shown.values():
        assert not any(code in text for code in ("w8a8", "w8a16", "float")), text
    # The choice is still kept by its ids, not by the words.
    combo.setCurrentIndex(list(shown).index(("gpu", "w8a8")))
    assert (ctx.state.unit, ctx.state.precision) == ("gpu", "w8a8")
    assert combo.toolTip().endswith(": GPU, w8a8")
