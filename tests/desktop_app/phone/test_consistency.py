"""The wizard and its advanced pages say the same thing the same way: one budget, one word
for closeness, the model menu's names, no stray spaces; and a saved choice whose search is
gone does not let the wizard go on as if it were there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from desktop_app.phone.page import PhonePage
from desktop_app.phone.pareto_plot import AXIS_CLOSENESS
from desktop_app.phone.state import WizardState, save_state
from desktop_app.phone.step_finetune import PHOTOS_PLACEHOLDER
from desktop_app.phone.step_search import LOST, notice_words
from desktop_app.workers import JobRunner
from engine.events import CancelToken

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _page(qtbot, setup, folder: Path) -> PhonePage:
    page = PhonePage(JobRunner(), setup, folder)
    qtbot.addWidget(page)
    page.resize(1000, 640)
    page.show()
    return page


def test_the_advanced_search_starts_from_the_wizards_budget(qtbot, setup, tmp_path) -> None:
    page = _page(qtbot, setup, tmp_path / "wizard")
    wizard_budget = page.ctx.state.budget_ms
    assert wizard_budget and wizard_budget != 15.0
    assert page.target.budget.value() == pytest.approx(wizard_budget, abs=0.01)
    assert page.advanced_ctx.state.budget_ms == pytest.approx(wizard_budget, abs=0.01)
    # The goal changes in the wizard: the advanced page follows it.
    goal = page.wizard.goal
    goal.seconds.setValue(goal.seconds.value() * 2)
    changed = page.ctx.state.budget_ms
    assert changed != pytest.approx(wizard_budget, abs=0.01)
    qtbot.waitUntil(lambda: page.target.budget.value() == pytest.approx(changed, abs=0.01))
    assert page.advanced_ctx.state.budget_ms == pytest.approx(changed, abs=0.01)
    # The advanced search's target line has no stray space before its comma.
    text = page.search.target.text()
    assert " ," not in text and "graphics chip (GPU), 8-bit numbers" in text


def test_closeness_is_one_wording_and_the_step_texts_say_no_jargon(qtbot, setup, tmp_path):
    assert AXIS_CLOSENESS.startswith("closeness to Best quality")
    latency = "latency: snapdragon-865 GPU: per-op roofline over 40 ops, band = worst 9.0%"
    assert "roofline" not in notice_words(latency)
    assert notice_words("evaluating x on y") == "evaluating x on y"
    placeholder_room(qtbot, setup, tmp_path)


def placeholder_room(qtbot, setup, tmp_path) -> None:
    """The fine-tune step's photos field shows its placeholder whole at a small window."""
    page = _page(qtbot, setup, tmp_path / "w2")
    page.wizard.stack.setCurrentWidget(page.wizard.finetune)
    field = page.wizard.finetune.photos
    qtbot.waitUntil(lambda: field.isVisible() and field.width() > 0)
    QApplication.processEvents()
    assert field.placeholderText() == PHOTOS_PLACEHOLDER
    room = field.contentsRect().width() - 2 * field.style().pixelMetric(
        field.style().PixelMetric.PM_DefaultFrameWidth
    )
    assert field.fontMetrics().horizontalAdvance(PHOTOS_PLACEHOLDER) <= room - 4


def test_step_two_names_the_shipped_models_as_the_model_menu_does() -> None:
    from desktop_app.model_names import shown_title
    from desktop_app.phone.jobs import placements_job
    from engine.models.registry import PHONE_MODELS, list_models

    placed = list(placements_job("snapdragon-865", "gpu", None, 128, CancelToken()))[-1].result
    titles = [p.title for p in placed]
    menu = {d.name: shown_title(d) for d in list_models()}
    for name in PHONE_MODELS:
        if name in menu:
            assert menu[name] in titles and menu[name].startswith("Phone, shipped")
    assert not any("shipped student" in title for title in titles)


def test_a_choice_whose_search_is_gone_keeps_next_off_and_says_so(qtbot, setup, tmp_path) -> None:
    folder = tmp_path / "wizard"
    folder.mkdir()
    save_state(
        WizardState(step=3, budget_ms=21.04, search_dir=str(folder / "search"),
                    chosen="b2-c16-g8-h11-conv-x4"),
        folder,
    )  # fmt: skip
    page = _page(qtbot, setup, folder)
    wizard = page.wizard
    assert wizard.stack.currentWidget() is wizard.search  # not the fine-tune step
    assert not wizard.next.isEnabled()
    assert wizard.search.details.text() == LOST
    wizard.go(3)
    assert wizard.stack.currentWidget() is wizard.search
    assert json.loads((folder / "wizard.json").read_text())["chosen"]  # the choice is kept
