"""Live training losses: one line per named loss, log scale, stage boundaries marked.

Each series is drawn lightly smoothed (an exponential moving average, as TensorBoard does),
because single-step GAN losses are noise; the legend names every loss in words with its last
value, and the tooltip says what each measures under the name the run's files give it.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from desktop_app.model_names import loss_meaning, loss_words, stage_words

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#ad494a",
)
SMOOTHING = 0.8
# MARGIN_RIGHT is the legend's least room: it widens to fit the words of the losses shown.
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 52, 196, 12, 28
LEGEND_INSET, LEGEND_SWATCH = 12, 22  # the legend's left inset; its colour line and the gap
# The widest value ``{:.3g}`` writes for a loss: the legend's room is sized for it, so the
# plot does not change width as the values change.
WIDEST_VALUE = "-1.23e-05"
FLOOR = 1e-6  # log scale: a zero loss is drawn at the floor


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(360, 200))
        self.series: dict[str, list[tuple[int, float]]] = {}
        self.stages: list[tuple[int, str]] = []  # (first step, stage name)
        self.placeholder = "The losses appear here once training starts."

    def clear(self) -> None:
        self.series.clear()
        self.stages.clear()
        self.setToolTip("")
        self.update()

    def add(self, step: int, stage: str, losses: dict[str, float]) -> None:
        if not self.stages or self.stages[-1][1] != stage:
            self.stages.append((step, stage))
        known = len(self.series)
        for key, value in losses.items():
            if math.isfinite(value):
                self.series.setdefault(key, []).append((step, value))
        if len(self.series) != known:
            self.setToolTip("\n".join(loss_meaning(key) for key in sorted(self.series)))
        self.update()

    def legend_margin(self) -> int:
        """The right margin the legend needs for the losses shown (at least MARGIN_RIGHT)."""
        metrics = self.fontMetrics()
        widest = max(
            (metrics.horizontalAdvance(_entry(key, WIDEST_VALUE)) for key in self.series),
            default=0,
        )
        return max(MARGIN_RIGHT, LEGEND_INSET + LEGEND_SWATCH + widest + 4)

    @property
    def steps(self) -> int:
        return max((points[-1][0] for points in self.series.values() if points), default=0)

    # ---- painting ----------------------------------------------------------------------

    def _area(self) -> QRectF:
        right = self.legend_margin()
        return QRectF(self.rect()).adjusted(MARGIN_LEFT, MARGIN_TOP, -right, -MARGIN_BOTTOM)

    def _ranges(self) -> tuple[int, int, float, float]:
        steps = [s for points in self.series.values() for s, _ in points]
        values = [max(v, FLOOR) for points in self.series.values() for _, v in points]
        low, high = math.log10(min(values)), math.log10(max(values))
        if high - low < 1e-3:
            low, high = low - 0.5, high + 0.5
        pad = 0.05 * (high - low)  # keep the extremes off the frame
        low, high = low - pad, high + pad
        return min(steps), max(max(steps), min(steps) + 1), low, high

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).lighter(105))
        if not self.series:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        area = self._area()
        first, last, low, high = self._ranges()

        def to_screen(step: float, value: float) -> QPointF:
            x = area.left() + (step - first) / (last - first) * area.width()
            y = area.bottom() - (math.log10(max(value, FLOOR)) - low) / (high - low) * area.height()
            return QPointF(x, y)

        self._paint_axes(painter, area, first, last, low, high)
        self._paint_stages(painter, area, to_screen)
        for index, (key, points) in enumerate(sorted(self.series.items())):
            color = QColor(PALETTE[index % len(PALETTE)])
            painter.setPen(QPen(color, 1.6))
            if len(points) == 1:  # a stage of one step: a dot, since a line needs two
                painter.setBrush(color)
                painter.drawEllipse(to_screen(*points[0]), 2.5, 2.5)
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._smoothed_path(points, to_screen))
            self._paint_legend_entry(painter, index, key, points[-1][1], color)

    def _smoothed_path(self, points: list[tuple[int, float]], to_screen) -> QPainterPath:
        path = QPainterPath()
        average: float | None = None
        for step, value in points:
            average = value if average is None else SMOOTHING * average + (1 - SMOOTHING) * value
            point = to_screen(step, average)
            # Not path.isEmpty(): a path holding only its first moveTo still counts as empty.
            if path.elementCount() == 0:
                path.moveTo(point)
            else:
                path.lineTo(point)
        return path

    def _paint_axes(
        self, painter: QPainter, area: QRectF, first: int, last: int, low: float, high: float
    ) -> None:
        grid = self.palette().color(self.foregroundRole())
        grid.setAlpha(50)
        text = self.palette().color(self.foregroundRole())
        for power in range(math.floor(low), math.ceil(high) + 1):
            if not low <= power <= high:
                continue
            y = area.bottom() - (power - low) / (high - low) * area.height()
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.setPen(text)
            painter.drawText(
                QRectF(0, y - 8, MARGIN_LEFT - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"1e{power}",
            )
        painter.setPen(QPen(text, 1))
        painter.drawRect(area)
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4, area.width(), 20),
            Qt.AlignmentFlag.AlignLeft,
            f"step {first}",
        )
        painter.drawText(
            QRectF(area.left(), area.bottom() + 4, area.width(), 20),
            Qt.AlignmentFlag.AlignRight,
            f"step {last}",
        )

    def _paint_stages(self, painter: QPainter, area: QRectF, to_screen) -> None:
        color = self.palette().color(self.foregroundRole())
        color.setAlpha(110)
        xs = [to_screen(step, 1.0).x() for step, _ in self.stages]
        for index, ((_, stage), x) in enumerate(zip(self.stages, xs, strict=True)):
            painter.setPen(QPen(color, 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
            label = stage_words(stage)
            room = (xs[index + 1] if index + 1 < len(xs) else area.right()) - x
            if painter.fontMetrics().horizontalAdvance(label) + 8 <= room:
                painter.drawText(QPointF(x + 4, area.top() + 14), label)

    def _paint_legend_entry(
        self, painter: QPainter, index: int, key: str, value: float, color: QColor
    ) -> None:
        x = self.width() - self.legend_margin() + LEGEND_INSET
        y = MARGIN_TOP + 6 + index * 17
        painter.setPen(QPen(color, 3))
        painter.drawLine(QPointF(x, y + 6), QPointF(x + 16, y + 6))
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(QPointF(x + LEGEND_SWATCH, y + 11), _entry(key, f"{value:.3g}"))


def _entry(key: str, value: str) -> str:
    return f"{loss_words(key)}  {value}"
