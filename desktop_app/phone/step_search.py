"""Step 3 (and the advanced Search page): the search, its Pareto plot filling live, the best
point within the budget picked, and any other point's predicted latency, MACs and fidelity."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.phone import jobs
from desktop_app.phone.context import JobPanel, WizardContext
from desktop_app.phone.known_networks import short_name
from desktop_app.phone.pareto_plot import ParetoPlot
from desktop_app.phone.step_phone import where_code, where_words
from desktop_app.widgets.eta import format_duration
from desktop_app.widgets.layouts import boxed, wide_row
from desktop_app.wording import first_upper
from engine.errors import MfaganError
from engine.events import Notice, Progress
from engine.nas.evolution import CandidateScored

SEARCH_FOLDER = "search"
LOST = (
    "The last search's results could not be read back (moved or damaged): click "
    "<b>Search</b> to run it again, then choose a design."
)
LATENCY_NOTICE = "latency: "
SHIPPED_STUDENT = "Fast (MFAGAN)"  # the shipped student, as the model menu names it
# The search's stages (engine: nas.valset, nas.host_latency) as the strip says them.
STAGE_WORDS = {
    "teacher on validation photos": "Upscaling the check photos with Best quality",
    "timing subnets on this computer": "Timing a few designs on this computer",
}


def cancelled_words(scored: int, earlier: bool) -> str:
    """How a cancelled search ended, as it stands after the cancel: its scored designs are
    gone (none may be chosen: no search stands behind them), and the last finished search,
    if there is one (``earlier``), is on the chart again to choose from."""
    if scored:
        some = (
            "1 design it had scored was" if scored == 1 else f"{scored} designs it had scored were"
        )
        lost = f"Search cancelled: the {some} not kept"
    else:
        lost = "Search cancelled before it had scored any design"
    if earlier:
        return (
            f"{lost}. The chart shows the last finished search again: choose one of its "
            "designs, or click Search to search again."
        )
    return f"{lost}, so there is nothing to choose yet. Click Search to search again."


def notice_words(message: str) -> str:
    """The search's notices for the status line; its latency model ("latency: ... per-op
    roofline over 40 ops, band = ...") said plainly, the method left to the engine's log."""
    if message.startswith(LATENCY_NOTICE + "this computer"):
        return "Predicting each design's speed on this computer from a few timed designs"
    if message.startswith(LATENCY_NOTICE):
        return "Predicting each design's speed on the phone from the phone's measurements"
    return message


class SearchStep(QWidget):
    pointShown = Signal()

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.target = QLabel("")
        self.target.setWordWrap(True)
        self.start_button = QPushButton("Search")
        self.plot = ParetoPlot()
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setMinimumHeight(self.details.fontMetrics().lineSpacing() * 2 + 4)
        self.panel = JobPanel(ctx.runner)
        self.summary: jobs.SearchSummary | None = None
        self.lost = False
        self.configs: list[str] = []
        self._started = 0.0
        self._candidate_stage = ""
        self._build()
        self.start_button.clicked.connect(self.start)
        self.plot.pointPicked.connect(self._point_picked)
        self.panel.started.connect(self._show_target)
        self.panel.ended.connect(self._ended)
        ctx.changed.connect(self._show_target)
        ctx.jobs.changed.connect(self._show_target)
        self._show_target()
        self.reload()

    def _build(self) -> None:
        row = wide_row(self.target, self.start_button)
        picked = boxed("The chosen design (click another point to choose it)", self.details)
        picked.setToolTip(
            "The design the wizard fine-tunes next: a smaller network cut out of the searched "
            "one (a subnet of the supernet)"
        )
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        layout.addWidget(picked)
        layout.addWidget(self.panel)

    @property
    def folder(self):
        return self.ctx.folder / SEARCH_FOLDER

    def _show_target(self) -> None:
        s = self.ctx.state
        budget = "no budget yet (set a goal)" if not s.budget_ms else f"{s.budget_ms:.2f} ms"
        # Step 1's words for the phone and unit ("snapdragon-865, GPU w8a8" were the ids).
        where = where_words(s.device, s.unit, s.precision)
        self.target.setText(
            f"For <b>{where}</b>, {s.tile} x {s.tile} px tiles; budget {budget} per tile."
        )
        self.target.setToolTip(where_code(s.device, s.unit, s.precision))
        # One job at a time: a search started while fine-tuning ran replaced the design
        # being trained (and the plot that showed it); so is choosing another meanwhile.
        why = self.ctx.jobs.why_not(self.panel)
        self.start_button.setEnabled(bool(s.budget_ms) and not self.panel.running and not why)
        self.start_button.setToolTip(why)
        # Its own search picks when it ends: a point clicked meanwhile would be replaced
        # then, or outlive a cancelled search as a design with no search behind it.
        self.plot.pickable = not self.panel.running and not why
        self.plot.setToolTip(why)
        self.plot.budget_ms = s.budget_ms
        self.plot.update()

    # ---- a saved search ----------------------------------------------------------------

    def reload(self) -> None:
        """Show the search the state names (the wizard reopened), if it finished. A choice
        whose search cannot be read back (its files gone or damaged) shows no plot and no
        design: the wizard then keeps Next off (``lost``) and says to search again."""
        summary = jobs.read_search(self.folder) if self.ctx.state.search_dir else None
        if summary is not None:
            self._show_summary(summary)
        self.lost = summary is None and bool(self.ctx.state.chosen)
        if self.lost:
            self.details.setText(LOST)
            self.details.setToolTip("")

    def _show_summary(self, summary: jobs.SearchSummary) -> None:
        self.summary = summary
        data = summary.data
        self.plot.clear()
        self.configs = []
        for outcome in (data.get("evolution"), data.get("random")):
            for c in (outcome or {}).get("candidates", []):
                self.configs.append(c["config"])
                self.plot.add(c["latency_ms"], c["fidelity_db"], c["config"])
        self.plot.budget_ms = data["target"]["budget_ms"]
        self.plot.references = [(short_name(r.get("key", ""), r["title"]), r["ms"])
                                for r in data.get("references", [])]  # fmt: skip
        student = data.get("student")
        if student and student.get("fidelity_db_supernet") is not None:
            self.plot.extra = [(SHIPPED_STUDENT, student["latency_ms"],
                                student["fidelity_db_supernet"])]  # fmt: skip
        chosen = self.ctx.state.chosen or data["pick"]["config"]
        if chosen in self.configs:
            self._choose(self.configs.index(chosen))

    # ---- running -----------------------------------------------------------------------

    def start(self) -> None:
        if self.ctx.jobs.refuse(self.panel):
            return
        s = self.ctx.state
        try:
            request = jobs.search_request(
                self.ctx.setup, device=s.device, unit=s.unit, precision=s.precision,
                budget_ms=s.budget_ms or 0.0, tile=s.tile,
            )  # fmt: skip
        except MfaganError as error:
            self.panel.end(f"Cannot search: {error}")
            return
        self.plot.clear()
        self.plot.references = []
        self.configs = []
        self.details.setText("")
        folder = self.folder
        self._started = time.monotonic()
        self.panel.run(
            lambda cancel: jobs.search_job(request, folder, cancel), "Preparing the search…",
            on_event=self._on_event, on_finished=self._finished, done_text="Search finished.",
        )  # fmt: skip

    def _on_event(self, event: object) -> None:
        if isinstance(event, CandidateScored):
            c = event.candidate
            self.configs.append(c.config.encode())
            self.plot.add(c.latency_ms, c.fidelity, c.config.encode())
            done = c.index + 1
            # The stage of the Progress event that follows each candidate: with a stage of
            # its own the two took turns restarting the strip's clock, so no time left ever
            # showed. That Progress is then skipped: this line already says it.
            self._candidate_stage = f"{event.search} search"
            self.panel.progress(self._candidate_stage, done, event.total,
                                f"Scored {done} of {event.total} candidates")  # fmt: skip
        elif isinstance(event, Progress) and event.stage == self._candidate_stage:
            return
        elif isinstance(event, Progress):
            text = STAGE_WORDS.get(event.stage, first_upper(event.stage))
            text += f" ({event.message})" if event.message else ""
            self.panel.progress(event.stage, event.done, event.total, text)
        elif isinstance(event, Notice):
            self.ctx.status.emit(notice_words(event.message))

    def _finished(self, summary: jobs.SearchSummary | None) -> None:
        if summary is None:
            return
        took = format_duration(time.monotonic() - self._started)
        self.panel.end(f"Search finished in {took} on this computer.", complete=True)
        self.lost = False
        self.ctx.update(search_dir=str(summary.folder), chosen=summary.data["pick"]["config"])
        self._show_summary(summary)

    def _ended(self, outcome: str) -> None:
        self._show_target()
        if outcome != "finished":
            # The stopped search's candidates go: nothing of it can be chosen. The last
            # finished search is still there, unharmed, and comes back.
            scored = len(self.configs)
            self.plot.clear()
            self.configs = []
            self.reload()
            if outcome == "cancelled":
                # "Cancelled." alone left the user to guess what became of the points.
                self.panel.end(cancelled_words(scored, earlier=bool(self.configs)))

    # ---- picking -----------------------------------------------------------------------

    def _point_picked(self, index: int) -> None:
        self._choose(index)
        self.ctx.update(chosen=self.configs[index])

    def _choose(self, index: int) -> None:
        self.plot.pick(index)
        s = self.ctx.state
        config = self.configs[index]
        fidelity = self.plot.points[index][1]
        self.details.setText("Working out the chosen design's cost…")
        self.details.setToolTip(f"Design {config}")
        self.ctx.runner.start(
            lambda cancel: jobs.point_job(config, s.device, s.unit, s.precision, s.tile,
                                          fidelity, cancel),
            name="point", on_finished=self._show_point,
        )  # fmt: skip

    def _show_point(self, point: jobs.PointDetails) -> None:
        budget = self.ctx.state.budget_ms or 0
        self.details.setText(
            f"Predicted {point.ms:.2f} ms a tile "
            f"({point.low_ms:.2f}–{point.high_ms:.2f}{', rough' if point.rough else ''}; "
            f"budget {budget:.2f}); "
            f"closeness to Best quality {point.fidelity:.2f} dB before fine-tuning "
            "(higher is closer). Point here for the details."
        )
        # The terms behind the plain line, for those who know them (issue: jargon in text).
        self.details.setToolTip(
            f"Design {point.config}; closeness is PSNR-Y against the teacher (Best quality); "
            f"{point.macs / 1e9:.2f} GMACs, {point.params:,} parameters."
        )
        self.pointShown.emit()
