"""The six steps with their list on the left, Back and Next; it opens at the saved step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.phone.context import WizardContext, waiting_words
from desktop_app.phone.state import STEPS, WizardState
from desktop_app.phone.step_compare import CompareStep
from desktop_app.phone.step_export import ExportStep
from desktop_app.phone.step_finetune import FinetuneStep
from desktop_app.phone.step_goal import GoalStep
from desktop_app.phone.step_phone import PhoneStep
from desktop_app.phone.step_search import SearchStep

# Who runs each step's job, as the other steps' "... is running" lines name it.
STEP_JOBS = (
    "Finding your phone (step 1)",
    "Placing the known networks (step 2)",
    "The search (step 3)",
    "Fine-tuning (step 4)",
    "The comparison (step 5)",
    "The export (step 6)",
)
# Why Next is off on a step whose result the next one needs and has not got yet.
NEXT_NEEDS = {
    1: "Set a goal first: step 3 searches for designs within its budget.",
    2: "Search and choose a design first: step 4 fine-tunes the chosen design.",
    3: "Fine-tune first: step 5 compares the fine-tuned model.",
}
SEARCH_AGAIN = "Search again first: the last search's results could not be read back."


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
        self.hint = QLabel("")  # why Next is off, or which other step's job runs
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
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
        for step, who in zip(self.steps, STEP_JOBS, strict=True):
            ctx.jobs.watch(step.panel, who)
        ctx.jobs.changed.connect(self._refresh)
        self.finetune.reload()
        self.go(min(ctx.state.step, self.last_step()))

    def busy_step(self) -> int | None:
        """The step whose job (one the user started) runs, None when none does."""
        return next((i for i, step in enumerate(self.steps) if step.panel.blocking), None)

    def last_step(self) -> int:
        """``reachable``, but not past the search while its saved results are lost: its
        choice names a design that step 3 could not show (an empty plot, Next on); nor past
        a step whose job runs: what the steps after it use is what it is making (a search
        replaces the choice when it ends, or a cancel brings the old one back)."""
        last = reachable(self.ctx.state)
        if self.search.lost:
            last = min(last, 2)
        busy = self.busy_step()
        return last if busy is None else min(last, busy)

    def next_reason(self, index: int) -> str:
        """Why Next is off on step ``index`` (its tooltip and the line beside it); the last
        step has no Next to explain. A disabled Next that said nothing left users guessing."""
        busy = self.busy_step()
        if index == len(self.steps) - 1:
            return ""
        if busy == index:
            return f"{STEP_JOBS[busy]} is running: wait for it to end, or cancel it."
        if busy is not None and busy < index:
            return waiting_words(STEP_JOBS[busy])
        if self.search.lost and index == 2:
            return SEARCH_AGAIN
        return NEXT_NEEDS.get(index, "")

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

    def _refresh(self) -> None:
        last = self.last_step()
        index = self.stack.currentIndex()
        for row in range(self.step_list.count()):
            item = self.step_list.item(row)
            enabled = Qt.ItemFlag.ItemIsEnabled
            item.setFlags(item.flags() | enabled if row <= last else item.flags() & ~enabled)
        self.back.setEnabled(index > 0)
        self.next.setEnabled(index < last)
        reason = "" if index < last else self.next_reason(index)
        self.next.setToolTip(reason)
        # Browsing back while a step's job runs is fine; the line says why nothing starts
        # here, before what Next waits for (which this step could not start meanwhile).
        elsewhere = self.ctx.jobs.why_not(self.steps[index].panel)
        self.hint.setText(elsewhere or reason)
