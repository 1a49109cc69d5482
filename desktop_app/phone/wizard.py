"""The six steps with their list on the left, Back and Next; it opens at the saved step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.phone.context import WizardContext
from desktop_app.phone.state import STEPS, WizardState
from desktop_app.phone.step_compare import CompareStep
from desktop_app.phone.step_export import ExportStep
from desktop_app.phone.step_finetune import FinetuneStep
from desktop_app.phone.step_goal import GoalStep
from desktop_app.phone.step_phone import PhoneStep
from desktop_app.phone.step_search import SearchStep


def reachable(state: WizardState) -> int:
    """The last step the user may go to: each needs what the one before it made."""
    if not state.budget_ms:
        return 1
    if not state.chosen:
        return 2
    if not state.model_name:
        return 3
    return 5


class PhoneWizard(QWidget):
    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.phone = PhoneStep(ctx)
        self.goal = GoalStep(ctx)
        self.search = SearchStep(ctx)
        self.finetune = FinetuneStep(ctx)
        self.compare = CompareStep(ctx)
        self.export = ExportStep(ctx)
        self.steps = [self.phone, self.goal, self.search, self.finetune, self.compare,
                      self.export]  # fmt: skip
        self.stack = QStackedWidget()
        for step in self.steps:
            self.stack.addWidget(step)
        self.step_list = QListWidget()
        self.step_list.addItems([f"{i + 1}. {title}" for i, title in enumerate(STEPS)])
        self.step_list.setMaximumWidth(150)
        self.back = QPushButton("Back")
        self.next = QPushButton("Next")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.back)
        buttons.addWidget(self.next)
        right = QVBoxLayout()
        right.addWidget(self.stack, 1)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.step_list)
        layout.addLayout(right, 1)
        self.step_list.currentRowChanged.connect(self.go)
        self.back.clicked.connect(lambda: self.go(self.stack.currentIndex() - 1))
        self.next.clicked.connect(lambda: self.go(self.stack.currentIndex() + 1))
        ctx.changed.connect(self._refresh)
        self.search.panel.started.connect(self._refresh)
        self.search.panel.ended.connect(self._search_ended)
        self.finetune.reload()
        self.go(min(ctx.state.step, self.last_step()))

    def last_step(self) -> int:
        """``reachable``, but not past the search while its saved results are lost: its
        choice names a design that step 3 could not show (an empty plot, Next on); nor while
        a search runs: the choice it would carry on is the one the search replaces when it
        ends, or the one a cancel brings back."""
        last = reachable(self.ctx.state)
        return min(last, 2) if self.search.lost or self.search.panel.running else last

    def go(self, index: int) -> None:
        if not 0 <= index <= self.last_step():
            self.step_list.setCurrentRow(self.stack.currentIndex())
            return
        self.stack.setCurrentIndex(index)
        self.step_list.blockSignals(True)
        self.step_list.setCurrentRow(index)
        self.step_list.blockSignals(False)
        self.ctx.update(step=index)
        self._refresh()

    def _search_ended(self, _outcome: str) -> None:
        self._refresh()

    def _refresh(self) -> None:
        last = self.last_step()
        index = self.stack.currentIndex()
        for row in range(self.step_list.count()):
            item = self.step_list.item(row)
            enabled = Qt.ItemFlag.ItemIsEnabled
            item.setFlags(item.flags() | enabled if row <= last else item.flags() & ~enabled)
        self.back.setEnabled(index > 0)
        self.next.setEnabled(index < last)
