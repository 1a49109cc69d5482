"""Fidelity against predicted latency, filled live as the search scores candidates.

Painted with QPainter like the loss plot (no figure library in the window): a log latency
axis, the budget as a dashed line, the Pareto front joined, reference networks as ticks on
the latency axis (their fidelity is not comparable: other weights), the picked point ringed.
A click picks the nearest scored point within the budget.
"""

from __future__ import annotations

import itertools
import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 14, 40
POINT, FRONT, OVER, PICK, BUDGET = "#1f77b4", "#d62728", "#b0b0b0", "#2ca02c", "#ff7f0e"
# The axes in the words the step's text uses ("closeness to Best quality"), not "fidelity".
AXIS_CLOSENESS = "closeness to Best quality (dB)"
AXIS_TIME = "predicted time per tile on the phone (ms, log scale)"


def front_of(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the Pareto front (lower latency, higher fidelity), by latency."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best, front = -math.inf, []
    for i in order:
        if points[i][1] > best:
            best = points[i][1]
            front.append(i)
    return front


def label_x(line_x: float, text_width: int, plot_width: int) -> float:
    """Where a label beside a vertical line starts: right of it, or left where the plot's
    edge would cut it ("budget 21.04 r")."""
    right = line_x + 4
    if right + text_width <= plot_width - 2:
        return right
    return max(line_x - 4 - text_width, 2)


class ParetoPlot(QWidget):
    pointPicked = Signal(int)  # index into ``points``

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(380, 240))
        self.points: list[tuple[float, float]] = []  # (latency ms, fidelity dB)
        self.labels: list[str] = []
        self.references: list[tuple[str, float]] = []
        self.extra: list[tuple[str, float, float]] = []  # e.g. the shipped student
        self.marks: list[tuple[str, float]] = []  # existing models: predicted latency only
        self.budget_ms: float | None = None
        self.picked: int | None = None
        self.placeholder = "Candidates appear here as the search scores them."

    def clear(self) -> None:
        self.points, self.labels, self.extra = [], [], []
        self.picked = None
        self.update()

    def add(self, latency_ms: float, fidelity: float, label: str) -> None:
        self.points.append((latency_ms, fidelity))
        self.labels.append(label)
        self.update()

    def pick(self, index: int | None) -> None:
        self.picked = index
        self.update()

    # ---- geometry ----------------------------------------------------------------------

    def _area(self) -> QRectF:
        return QRectF(self.rect()).adjusted(MARGIN_LEFT, MARGIN_TOP, -MARGIN_RIGHT, -MARGIN_BOTTOM)

    def _ranges(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.points] + [e[1] for e in self.extra]
        xs += [ms for _, ms in self.references + self.marks]
        xs += [self.budget_ms] if self.budget_ms else []
        ys = [p[1] for p in self.points] + [e[2] for e in self.extra]
        xs = [x for x in xs if x > 0 and math.isfinite(x)] or [1.0]
        ys = [y for y in ys if math.isfinite(y)] or [0.0]
        x0, x1 = math.log10(min(xs)) - 0.05, math.log10(max(xs)) + 0.05
        y0, y1 = min(ys), max(ys)
        pad = max((y1 - y0) * 0.08, 0.05)
        return x0, x1, y0 - pad, y1 + pad

    def _mapper(self):
        area = self._area()
        x0, x1, y0, y1 = self._ranges()

        def to_screen(ms: float, db: float) -> QPointF:
            fx = (math.log10(max(ms, 1e-9)) - x0) / (x1 - x0)
            fy = (db - y0) / (y1 - y0)
            return QPointF(area.left() + fx * area.width(), area.bottom() - fy * area.height())

        return to_screen

    # ---- painting ----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        area = self._area()
        if not self.points and not self.references and not self.marks:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        to_screen = self._mapper()
        self._paint_axes(painter, area)
        if self.budget_ms:
            x = to_screen(self.budget_ms, 0).x()
            painter.setPen(QPen(QColor(BUDGET), 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            label = f"budget {self.budget_ms:.2f} ms"
            # Beside the line, on the side with room: never cut by the plot's right edge.
            wide = painter.fontMetrics().horizontalAdvance(label)
            painter.drawText(QPointF(label_x(x, wide, self.width()), area.top() + 12), label)
        for title, ms, color in [(t, ms, "#7f7f7f") for t, ms in self.references] + [
            (t, ms, "#9467bd") for t, ms in self.marks
        ]:
            x = to_screen(ms, 0).x()
            painter.setPen(QPen(QColor(color), 1))
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() - 8))
            painter.save()
            painter.translate(x + 3, area.bottom() - 10)
            painter.rotate(-90)
            painter.drawText(QPointF(0, 0), title)
            painter.restore()
        for ms, db in self.points:
            over = self.budget_ms is not None and ms > self.budget_ms
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(OVER if over else POINT))
            painter.drawEllipse(to_screen(ms, db), 2.5, 2.5)
        front = [self.points[i] for i in front_of(self.points)]
        painter.setPen(QPen(QColor(FRONT), 1.5))
        for a, b in itertools.pairwise(front):
            painter.drawLine(to_screen(*a), to_screen(*b))
        for title, ms, db in self.extra:
            point = to_screen(ms, db)
            painter.setPen(QPen(QColor("#9467bd"), 2))
            painter.drawLine(point + QPointF(-5, -5), point + QPointF(5, 5))
            painter.drawLine(point + QPointF(-5, 5), point + QPointF(5, -5))
            painter.drawText(point + QPointF(7, -4), title)
        if self.picked is not None and 0 <= self.picked < len(self.points):
            painter.setPen(QPen(QColor(PICK), 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(to_screen(*self.points[self.picked]), 7, 7)

    def _paint_axes(self, painter: QPainter, area: QRectF) -> None:
        x0, x1, y0, y1 = self._ranges()
        to_screen = self._mapper()
        painter.setPen(QPen(self.palette().text().color(), 1))
        painter.drawRect(area)
        for exponent in range(math.floor(x0), math.ceil(x1) + 1):
            for mantissa in (1, 2, 5):
                ms = mantissa * 10.0**exponent
                if not x0 <= math.log10(ms) <= x1:
                    continue
                x = to_screen(ms, y0).x()
                painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() + 4))
                painter.drawText(QRectF(x - 30, area.bottom() + 4, 60, 14),
                                 Qt.AlignmentFlag.AlignHCenter, f"{ms:g}")  # fmt: skip
        for i in range(5):
            db = y0 + (y1 - y0) * i / 4
            y = to_screen(10**x0, db).y()
            painter.drawText(QRectF(0, y - 7, MARGIN_LEFT - 6, 14),
                             Qt.AlignmentFlag.AlignRight, f"{db:.2f}")  # fmt: skip
        painter.drawText(QRectF(area.left(), area.bottom() + 20, area.width(), 16),
                         Qt.AlignmentFlag.AlignHCenter,
                         AXIS_TIME)  # fmt: skip
        painter.save()
        painter.translate(12, area.center().y())
        painter.rotate(-90)
        half = area.height() / 2  # the whole side's height: a 180 px box cut longer words
        painter.drawText(QRectF(-half, -8, 2 * half, 16), Qt.AlignmentFlag.AlignHCenter,
                         AXIS_CLOSENESS)  # fmt: skip
        painter.restore()

    # ---- picking -----------------------------------------------------------------------

    def nearest(self, where: QPointF) -> int | None:
        to_screen = self._mapper()
        best, best_distance = None, 24.0**2
        for index, (ms, db) in enumerate(self.points):
            if self.budget_ms is not None and ms > self.budget_ms:
                continue
            p = to_screen(ms, db) - where
            distance = p.x() ** 2 + p.y() ** 2
            if distance < best_distance:
                best, best_distance = index, distance
        return best

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.nearest(event.position())
        if index is not None:
            self.pick(index)
            self.pointPicked.emit(index)
