"""Fidelity against predicted latency, filled live as the search scores candidates.

Painted with QPainter like the loss plot (no figure library in the window): a log latency
axis, the budget as a dashed line, the Pareto front joined, reference networks as ticks on
the latency axis (their fidelity is not comparable: other weights), the picked point ringed.
A click picks the nearest scored point within the budget.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPen
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


def leader_end(anchor: QPointF, box: QRectF) -> QPointF | None:
    """Where the dotted line from a moved-off label's box meets it; None when the label sits
    beside what it names (no line)."""
    if box.adjusted(-8, -8, 8, 8).contains(anchor):
        return None
    return QPointF(min(max(anchor.x(), box.left()), box.right()),
                   box.bottom() if box.bottom() < anchor.y() else box.top())  # fmt: skip


def leader_box(anchor: QPointF, box: QRectF) -> QRectF | None:
    """The strip the dotted line to ``box`` crosses (None: no line)."""
    end = leader_end(anchor, box)
    if end is None:
        return None
    return QRectF(anchor, end).normalized().adjusted(-1, -1, 1, 1)


def free_spot(
    candidates: list[QRectF], taken: list[QRectF], bounds: QRectF, *,
    anchor: QPointF | None = None, labels: Sequence[QRectF] = (),
    avoid: Sequence[QRectF] = (), rather_not: Sequence[QRectF] = (),
) -> QRectF:  # fmt: skip
    """The first candidate inside ``bounds`` clear of everything ``taken`` whose dotted line
    back to ``anchor`` crosses none of the ``labels``: one clear of ``avoid`` (room that
    labels still to come need) and ``rather_not`` (lines better not written across)
    preferred, then one clear of ``avoid``; on a plot too crowded for any, the one that
    covers the least of ``taken``."""
    inside = [c for c in candidates if bounds.contains(c)] or candidates

    def clear(candidate: QRectF, *others: Sequence[QRectF]) -> bool:
        if any(candidate.intersects(t) for group in (taken, *others) for t in group):
            return False
        line = None if anchor is None else leader_box(anchor, candidate)
        return line is None or not any(line.intersects(label) for label in labels)

    for others in ((avoid, rather_not), (avoid,), ()):
        for candidate in inside:
            if clear(candidate, *others):
                return candidate

    def covered(candidate: QRectF) -> float:
        parts = (candidate.intersected(t) for t in taken)
        return sum(p.width() * p.height() for p in parts)

    return min(inside, key=covered)


def beside_tick(x: float, bottom: float, size: QSize, top: float) -> list[QRectF]:
    """Places for a tick's label, nearest first: beside the tick, then rows further up (a
    dotted line leads back to the tick)."""
    w, h = size.width(), size.height()
    places, y = [], bottom - 10
    while y - h >= top:
        places += [QRectF(x + 3, y - h, w, h), QRectF(x - 3 - w, y - h, w, h)]
        y -= h + 2
    return places


def around_point(point: QPointF, size: QSize) -> list[QRectF]:
    """Places for a marked point's label, nearest first, clear of its 5-px cross."""
    w, h = size.width(), size.height()
    places = []
    for gap in (7, 14, 28):
        x, y = point.x(), point.y()
        for left, top in ((x + gap, y - gap - h / 2), (x + gap, y + gap - h / 2),
                          (x - gap - w, y - gap - h / 2), (x - gap - w, y + gap - h / 2),
                          (x - w / 2, y - gap - h), (x - w / 2, y + gap)):  # fmt: skip
            places.append(QRectF(left, top, w, h))
    return places


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
        self.pickable = True  # off while the search runs
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
        for ms, color in [(ms, "#7f7f7f") for _, ms in self.references] + [
            (ms, "#9467bd") for _, ms in self.marks
        ]:
            x = to_screen(ms, 0).x()
            painter.setPen(QPen(QColor(color), 1))
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() - 8))
        for title, anchor, box, color in self.label_boxes(painter.fontMetrics()):
            end = leader_end(anchor, box)
            if end is not None:  # moved off: a line leads back
                painter.setPen(QPen(QColor(color), 1, Qt.PenStyle.DotLine))
                painter.drawLine(anchor, end)
            painter.setPen(QPen(QColor(color), 1))
            painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             title)  # fmt: skip
        for ms, db in self.points:
            over = self.budget_ms is not None and ms > self.budget_ms
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(OVER if over else POINT))
            painter.drawEllipse(to_screen(ms, db), 2.5, 2.5)
        front = [self.points[i] for i in front_of(self.points)]
        painter.setPen(QPen(QColor(FRONT), 1.5))
        for a, b in itertools.pairwise(front):
            painter.drawLine(to_screen(*a), to_screen(*b))
        for _title, ms, db in self.extra:
            point = to_screen(ms, db)
            painter.setPen(QPen(QColor("#9467bd"), 2))
            painter.drawLine(point + QPointF(-5, -5), point + QPointF(5, 5))
            painter.drawLine(point + QPointF(-5, 5), point + QPointF(5, -5))
        if self.picked is not None and 0 <= self.picked < len(self.points):
            painter.setPen(QPen(QColor(PICK), 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(to_screen(*self.points[self.picked]), 7, 7)

    def markers(self, metrics: QFontMetrics) -> list[QRectF]:
        """What labels must not cover: each point, cross and ring, the budget's label."""
        to_screen, area = self._mapper(), self._area()

        def square(point: QPointF, half: float) -> QRectF:
            return QRectF(point.x() - half, point.y() - half, 2 * half, 2 * half)

        found = [square(to_screen(ms, db), 3.5) for ms, db in self.points]
        # The front's line too, as dots closer together than a label is high: a name
        # written across it was hard to read.
        front = [to_screen(*self.points[i]) for i in front_of(self.points)]
        for a, b in itertools.pairwise(front):
            steps = max(1, math.ceil(math.hypot(b.x() - a.x(), b.y() - a.y()) / 3))
            found += [square(a + (b - a) * (k / steps), 1.5) for k in range(1, steps)]
        found += [square(to_screen(ms, db), 6) for _, ms, db in self.extra]
        if self.picked is not None and 0 <= self.picked < len(self.points):
            found.append(square(to_screen(*self.points[self.picked]), 8.5))
        if self.budget_ms:
            label = f"budget {self.budget_ms:.2f} ms"
            wide = metrics.horizontalAdvance(label)
            x = label_x(to_screen(self.budget_ms, 0).x(), wide, self.width())
            found.append(QRectF(x, area.top(), wide, 14))
        for _, ms in self.references + self.marks:
            x = to_screen(ms, 0).x()
            found.append(QRectF(x - 1, area.bottom() - 8, 2, 8))
        return found

    def label_boxes(self, metrics: QFontMetrics) -> list[tuple[str, QPointF, QRectF, str]]:
        """(title, what it names, where its label goes, colour) for the reference networks,
        the marked models and the extra points: each label placed clear of the points, the
        front's line and the labels (and dotted lines) placed before it, its own dotted line
        clear of those labels."""
        to_screen, area = self._mapper(), self._area()
        taken = self.markers(metrics)
        placed, labels = [], []
        ticks = [(t, ms, "#7f7f7f") for t, ms in self.references]
        ticks += [(t, ms, "#9467bd") for t, ms in self.marks]
        ticks.sort(key=lambda tick: tick[1])
        # The spot beside each tick, kept free while its label is still to come: a label
        # placed there earlier sent that one up, its dotted line through the earlier text.
        row = metrics.height() + 10
        columns = [QRectF(to_screen(ms, 0).x() - 1, area.bottom() - row, 2, row)
                   for _, ms, _ in ticks]  # fmt: skip
        budget = []
        if self.budget_ms:
            x = to_screen(self.budget_ms, 0).x()
            budget = [QRectF(x - 1, area.top(), 2, area.height())]
        for number, (title, ms, color) in enumerate(ticks):
            size = QSize(metrics.horizontalAdvance(title) + 2, metrics.height())
            x = to_screen(ms, 0).x()
            anchor = QPointF(x, area.bottom() - 8)
            box = free_spot(beside_tick(x, area.bottom(), size, area.top()), taken, area,
                            anchor=anchor, labels=labels, avoid=columns[number + 1:],
                            rather_not=budget)  # fmt: skip
            placed.append((title, anchor, box, color))
            self._take(taken, labels, anchor, box)
        for title, ms, db in self.extra:
            size = QSize(metrics.horizontalAdvance(title) + 2, metrics.height())
            point = to_screen(ms, db)
            box = free_spot(around_point(point, size), taken, area, anchor=point, labels=labels,
                            rather_not=budget)  # fmt: skip
            placed.append((title, point, box, "#9467bd"))
            self._take(taken, labels, point, box)
        return placed

    @staticmethod
    def _take(taken: list[QRectF], labels: list[QRectF], anchor: QPointF, box: QRectF) -> None:
        """A placed label, and its dotted line, are not covered by the labels after it."""
        taken.append(box)
        labels.append(box)
        line = leader_box(anchor, box)
        if line is not None:
            taken.append(line)

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
        if not self.pickable:
            return
        index = self.nearest(event.position())
        if index is not None:
            self.pick(index)
            self.pointPicked.emit(index)
