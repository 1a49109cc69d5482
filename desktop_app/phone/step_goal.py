"""Step 2: the goal in the user's terms, turned into a per-tile budget with the arithmetic
shown, and the shipped student, the teacher and public networks placed against it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QRadioButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.phone import jobs
from desktop_app.phone.budget import Budget, photo_budget, video_budget
from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.phone.step_phone import where_code, where_words
from desktop_app.widgets.layouts import boxed


def _spin(low: float, high: float, value: float, suffix: str, decimals: int = 1):
    box = QDoubleSpinBox() if decimals else QSpinBox()
    box.setRange(low, high)
    if decimals:
        box.setDecimals(decimals)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


class GoalStep(QWidget):
    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        state = ctx.state
        self.photo = QRadioButton("Photos")
        self.video = QRadioButton("Video frames")
        group = QButtonGroup(self)
        group.addButton(self.photo)
        group.addButton(self.video)
        self.megapixels = _spin(0.1, 200, state.megapixels, " MP")
        self.seconds = _spin(0.1, 3600, state.seconds, " s")
        self.width_box = _spin(16, 7680, state.video_width, " px", 0)
        self.height_box = _spin(16, 4320, state.video_height, " px", 0)
        self.fps = _spin(0.1, 120, state.fps, " fps")
        self.tile = _spin(32, 512, state.tile, " px", 0)
        self.tile.setSingleStep(32)
        self.tile.setMaximumWidth(110)
        self.tile.setToolTip("Side of the square low-resolution tiles the phone file takes")
        self.arithmetic = QLabel("")
        self.arithmetic.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Network", "ms per tile", "Against the budget"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.panel = JobPanel(ctx.runner)
        self.budget: Budget | None = None
        self._placed: list[jobs.Placement] = []
        (self.video if state.goal == "video" else self.photo).setChecked(True)
        self._build()
        for box in (self.megapixels, self.seconds, self.width_box, self.height_box, self.fps):
            box.valueChanged.connect(self.recompute)
        self.tile.valueChanged.connect(self._tile_changed)
        self.photo.toggled.connect(self.recompute)
        ctx.changed.connect(self._context_changed)
        ctx.jobs.changed.connect(self._lock)
        self._placed_for: tuple = ()
        self.recompute()
        self._lock()

    def _build(self) -> None:
        self.goal_box = goal = QGroupBox("What should the phone manage?")
        form = QFormLayout(goal)
        row = QHBoxLayout()
        row.addWidget(self.photo)
        row.addWidget(self.megapixels)
        row.addWidget(QLabel("in at most"))
        row.addWidget(self.seconds)
        row.addStretch(1)
        form.addRow(row)
        row = QHBoxLayout()
        row.addWidget(self.video)
        row.addWidget(self.width_box)
        row.addWidget(QLabel("x"))
        row.addWidget(self.height_box)
        row.addWidget(QLabel("at"))
        row.addWidget(self.fps)
        row.addStretch(1)
        form.addRow(row)
        form.addRow("Tile size:", self.tile)
        sums = boxed("The budget, worked out", self.arithmetic)
        placed = boxed("Known networks on this phone, against the budget", self.table)
        layout = QVBoxLayout(self)
        layout.addWidget(goal)
        layout.addWidget(sums)
        layout.addWidget(placed, 1)
        layout.addWidget(self.panel)

    def _lock(self) -> None:
        """The goal is what a running search searches within (and a design is chosen for):
        it stays as it is while another step's job runs."""
        why = self.ctx.jobs.why_not(self.panel)
        self.goal_box.setEnabled(not why)
        self.goal_box.setToolTip(why)

    def recompute(self) -> None:
        photo = self.photo.isChecked()
        tile = self.tile.value()
        try:
            if photo:
                budget = photo_budget(self.megapixels.value(), self.seconds.value(), tile)
            else:
                budget = video_budget(self.width_box.value(), self.height_box.value(),
                                      self.fps.value(), tile)  # fmt: skip
        except ValueError as error:
            self.arithmetic.setText(str(error))
            return
        self.budget = budget
        state = self.ctx.state
        # The phone and unit in step 1's words: "GPU w8a8 of snapdragon-865" were its ids.
        where = where_words(state.device, state.unit, state.precision)
        self.arithmetic.setText(
            "<br>".join(budget.lines)
            + f"<br><b>Budget: {budget.per_tile_ms:.2f} ms per tile</b> for {where}."
        )
        self.arithmetic.setToolTip(where_code(state.device, state.unit, state.precision))
        self.ctx.update(
            goal="photo" if photo else "video", megapixels=self.megapixels.value(),
            seconds=self.seconds.value(), video_width=self.width_box.value(),
            video_height=self.height_box.value(), fps=self.fps.value(), tile=tile,
            budget_ms=round(budget.per_tile_ms, 3),
        )  # fmt: skip
        self._show_placements()

    def _tile_changed(self) -> None:
        self.recompute()
        self.place()

    def _context_changed(self) -> None:
        state = self.ctx.state
        if (state.device, state.unit, state.precision, state.tile) != self._placed_for:
            self.place()

    def place(self) -> None:
        state = self.ctx.state
        if self.panel.running:
            return
        key = (state.device, state.unit, state.precision, state.tile)
        self._placed_for = key
        self.panel.run(lambda cancel: jobs.placements_job(*key, cancel),
                       "Placing the known networks…", on_finished=self._placements,
                       done_text="", automatic=True)  # fmt: skip

    def _placements(self, placed: list[jobs.Placement]) -> None:
        self._placed = placed
        self._show_placements()
        self._context_changed()  # the phone may have changed while this ran

    def _show_placements(self) -> None:
        budget = self.ctx.state.budget_ms
        self.table.setRowCount(len(self._placed))
        for row, placed in enumerate(self._placed):
            ms = placed.ms
            verdict = ""
            if ms is not None and budget:
                verdict = (
                    f"fits ({ms / budget:.0%} of the budget)"
                    if ms <= budget
                    else f"{ms / budget:.{2 if ms < 10 * budget else 0}f}x too slow"
                )
            cells = (placed.title, "—" if ms is None else f"{ms:.2f} ({placed.note})", verdict)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 0 and placed.details:
                    item.setToolTip(placed.details)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._context_changed()
        self.recompute()
