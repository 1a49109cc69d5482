"""Before/after view: a draggable split or two panes side by side, one shared zoom and pan.

Both images are placed in the coordinates of the result ("content" pixels): the smaller
"before" image is stretched over the same rectangle, so the split line and the two panes
always show the same part of the photo. One zoom (screen pixels per content pixel) and one
centre serve both panes, which is what keeps them in sync; "1:1" is one content pixel per
physical screen pixel (the device pixel ratio is taken into account).

Mouse: drag the split handle to move it, drag elsewhere to pan, wheel to zoom around the
cursor, double-click to switch between fit and 1:1.
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

Mode = Literal["split", "side"]
MIN_ZOOM, MAX_ZOOM = 0.01, 64.0
DROP_HINT = "Drop images here, or use Open… or Paste"
HANDLE_GRAB = 10  # px either side of the split line that start a split drag
GAP = 4  # px between the two panes of side by side
CHECKER = 8


class CompareView(QWidget):
    zoomChanged = Signal(float)  # physical screen pixels per content pixel
    contentChanged = Signal()  # new images (or none any more): see ``has_content``
    splitChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(320, 240))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._before: QImage | None = None
        self._after: QImage | None = None
        self._labels = ("", "")
        self._mode: Mode = "split"
        self._split = 0.5
        self._zoom = 1.0
        self._center = QPointF(0, 0)
        self._fitting = True
        self._drag: Literal["", "split", "pan"] = ""
        self._last = QPointF()
        self.placeholder = DROP_HINT

    # ---- content -----------------------------------------------------------------------

    def set_placeholder(self, text: str) -> None:
        """What the empty view says (where to get images, or why this one cannot be shown)."""
        if text != self.placeholder:
            self.placeholder = text
            self.update()

    def set_images(
        self,
        before: QImage | None,
        after: QImage | None,
        *,
        before_label: str = "Original",
        after_label: str = "",
    ) -> None:
        """Show new images; the view is kept if the content size did not change."""
        old = self.content_size()
        self._before, self._after = before, after
        self._labels = (before_label, after_label)
        if self.content_size() != old or self._fitting:
            self.fit()
        self.update()
        self.contentChanged.emit()

    @property
    def has_content(self) -> bool:
        return not self.content_size().isEmpty()

    @property
    def before(self) -> QImage | None:
        return self._before

    @property
    def after(self) -> QImage | None:
        return self._after

    @property
    def labels(self) -> tuple[str, str]:
        return self._labels

    def content_size(self) -> QSize:
        image = self._after if self._after is not None else self._before
        return image.size() if image is not None else QSize(0, 0)

    # ---- mode, split, zoom -------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode) -> None:
        if mode != self._mode:
            self._mode = mode
            if self._fitting:
                self.fit()
            self.update()

    @property
    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, fraction))
        self.splitChanged.emit(self._split)
        self.update()

    @property
    def zoom(self) -> float:
        """Physical screen pixels per content pixel (1.0 at 1:1)."""
        return self._zoom * self.devicePixelRatioF()

    @property
    def center(self) -> QPointF:
        return QPointF(self._center)

    def panes(self) -> list[QRectF]:
        rect = QRectF(self.rect())
        if self._mode == "split" or self._after is None:
            return [rect]
        half = (rect.width() - GAP) / 2
        return [
            QRectF(rect.left(), rect.top(), half, rect.height()),
            QRectF(rect.left() + half + GAP, rect.top(), half, rect.height()),
        ]

    def fit(self) -> None:
        size = self.content_size()
        self._fitting = True
        if size.isEmpty():
            return
        pane = self.panes()[0]
        zoom = min(pane.width() / size.width(), pane.height() / size.height())
        self._set_view(zoom, QPointF(size.width() / 2, size.height() / 2))
        self._fitting = True

    def actual_pixels(self) -> None:
        """1:1: one content pixel per physical pixel, centred on what is shown now."""
        self._set_view(1.0 / self.devicePixelRatioF(), self._center)

    def center_on(self, x_fraction: float, y_fraction: float) -> None:
        """Keep the zoom, show the point at these fractions of the image's width and height."""
        size = self.content_size()
        self._set_view(self._zoom, QPointF(size.width() * x_fraction, size.height() * y_fraction))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the content point under ``anchor`` (widget coordinates) in place."""
        pane = self._pane_at(anchor) if anchor is not None else self.panes()[0]
        anchor = anchor if anchor is not None else pane.center()
        fixed = self._to_content(anchor, pane)
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, self._zoom * factor))
        offset = (anchor - pane.center()) / zoom
        self._set_view(zoom, fixed - offset)

    def _set_view(self, zoom: float, center: QPointF) -> None:
        self._fitting = False
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self._center = self._clamped(center)
        self.zoomChanged.emit(self.zoom)
        self.update()

    def _clamped(self, center: QPointF) -> QPointF:
        """Keep the centre on the content so a pan cannot lose the image."""
        size = self.content_size()
        return QPointF(
            min(max(center.x(), 0.0), float(size.width())),
            min(max(center.y(), 0.0), float(size.height())),
        )

    # ---- coordinates -------------------------------------------------------------------

    def _pane_at(self, point: QPointF) -> QRectF:
        panes = self.panes()
        return next((p for p in panes if p.contains(point)), panes[0])

    def _to_content(self, point: QPointF, pane: QRectF) -> QPointF:
        return self._center + (point - pane.center()) / self._zoom

    def content_rect_in(self, pane: QRectF) -> QRectF:
        """Where the whole content lies on screen in ``pane`` (widget coordinates)."""
        size = self.content_size()
        top_left = pane.center() - self._center * self._zoom
        return QRectF(
            top_left.x(), top_left.y(), size.width() * self._zoom, size.height() * self._zoom
        )

    def split_x(self) -> float:
        return self.rect().left() + self._split * self.rect().width()

    # ---- painting ----------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(135))
        if self.content_size().isEmpty():
            self._paint_placeholder(painter)
            return
        panes = self.panes()
        if len(panes) == 2:
            self._paint_image(painter, panes[0], self._before, panes[0])
            self._paint_image(painter, panes[1], self._after, panes[1])
            self._paint_label(painter, panes[0], self._labels[0], left=True)
            self._paint_label(painter, panes[1], self._labels[1], left=False)
            return
        pane = panes[0]
        if self._after is None:
            self._paint_image(painter, pane, self._before, pane)
            self._paint_label(painter, pane, self._labels[0], left=True)
            return
        x = self.split_x()
        left = QRectF(pane.left(), pane.top(), x - pane.left(), pane.height())
        right = QRectF(x, pane.top(), pane.right() - x, pane.height())
        self._paint_image(painter, pane, self._before, left)
        self._paint_image(painter, pane, self._after, right)
        self._paint_handle(painter, x)
        self._paint_label(painter, pane, self._labels[0], left=True)
        self._paint_label(painter, pane, self._labels[1], left=False)

    def _paint_image(
        self, painter: QPainter, pane: QRectF, image: QImage | None, clip: QRectF
    ) -> None:
        if image is None or clip.width() <= 0:
            return
        target = self.content_rect_in(pane)
        painter.save()
        painter.setClipRect(clip)
        if image.hasAlphaChannel():
            self._paint_checker(painter, target.intersected(clip))
        pixel_scale = target.width() / image.width() * self.devicePixelRatioF()
        # Enlarged result pixels stay crisp (that is the point of 1:1); the original is shown
        # smoothly enlarged, like any viewer would.
        smooth = pixel_scale < 1.0 or image is self._before
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawImage(target, image, QRectF(image.rect()))
        painter.restore()

    def _paint_checker(self, painter: QPainter, area: QRectF) -> None:
        light, dark = QColor(204, 204, 204), QColor(153, 153, 153)
        painter.fillRect(area, light)
        top, left = int(area.top()), int(area.left())
        for y in range(top, int(area.bottom()) + 1, CHECKER):
            for x in range(left, int(area.right()) + 1, CHECKER):
                if ((x - left) // CHECKER + (y - top) // CHECKER) % 2:
                    painter.fillRect(QRectF(x, y, CHECKER, CHECKER).intersected(area), dark)

    def _paint_handle(self, painter: QPainter, x: float) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        mid = self.height() / 2
        painter.setBrush(QColor(255, 255, 255, 230))
        painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
        painter.drawEllipse(QPointF(x, mid), 14, 14)
        painter.setPen(QPen(QColor(40, 40, 40), 2))
        for direction in (-1, 1):
            tip = x + direction * 9
            base = x + direction * 3
            painter.drawLine(QPointF(base, mid - 5), QPointF(tip, mid))
            painter.drawLine(QPointF(tip, mid), QPointF(base, mid + 5))
        painter.restore()

    def _paint_label(self, painter: QPainter, pane: QRectF, text: str, *, left: bool) -> None:
        if not text:
            return
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 16
        height = metrics.height() + 8
        x = pane.left() + 10 if left else pane.right() - 10 - width
        box = QRectF(x, pane.top() + 10, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(box, 5, 5)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _paint_placeholder(self, painter: QPainter) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(self.rect()).adjusted(24, 24, -24, -24)
        color = self.palette().color(self.foregroundRole())
        color.setAlpha(120)
        painter.setPen(QPen(color, 2, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(box, 12, 12)
        # Wrapped: a reason a file could not be opened is often wider than the view.
        flags = Qt.AlignmentFlag.AlignCenter.value | Qt.TextFlag.TextWordWrap.value
        painter.drawText(box.adjusted(16, 16, -16, -16), flags, self.placeholder)
        painter.restore()

    # ---- interaction -------------------------------------------------------------------

    def _on_handle(self, point: QPointF) -> bool:
        return (
            self._mode == "split"
            and self._after is not None
            and abs(point.x() - self.split_x()) <= HANDLE_GRAB
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = event.position()
        self._drag = "split" if self._on_handle(point) else "pan"
        self._last = point
        if self._drag == "pan":
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = event.position()
        if self._drag == "split":
            self.set_split((point.x() - self.rect().left()) / max(1, self.rect().width()))
        elif self._drag == "pan":
            delta = (point - self._last) / self._zoom
            self._last = point
            self._set_view(self._zoom, self._center - delta)
        elif self._on_handle(point):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = ""
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self._fitting:
            self.actual_pixels()
        else:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.25**steps, event.position())

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self._fitting:
            self.fit()
        super().resizeEvent(event)
