"""Loss plot: every named loss is drawn as a line, in its legend colour."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from desktop_app.widgets.loss_plot import MARGIN_RIGHT, PALETTE, LossPlot


def colour_pixels(image: QImage, colour: str, width: int) -> int:
    """Pixels of (nearly) this colour in the plotting area, left of the legend."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    pixels = rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3)
    target = QColor(colour)
    wanted = np.array([target.red(), target.green(), target.blue()])
    close = np.abs(pixels[:, : width - MARGIN_RIGHT].astype(int) - wanted).sum(axis=2) < 40
    return int(close.sum())


def test_each_loss_is_drawn_as_a_line(qtbot) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 300)
    for step in range(1, 41):
        stage = "warmup" if step <= 20 else "gan"
        losses = {"l_g_distill": 0.2 / step}
        if stage == "gan":
            losses["l_g_gan"] = 0.7
        plot.add(step, stage, losses)
    assert plot.steps == 40 and [s for _, s in plot.stages] == ["warmup", "gan"]
    shot = plot.grab().toImage()
    # Sorted keys get the palette in order: l_g_distill first, l_g_gan second.
    assert colour_pixels(shot, PALETTE[0], 700) > 200
    assert colour_pixels(shot, PALETTE[1], 700) > 100
    plot.clear()
    assert plot.steps == 0 and not plot.series


def test_every_legend_entry_fits_beside_the_plot(qtbot):
    # Seen at 1024x700: "vs Best quality  0.0253" ran off the widget's right edge.
    from desktop_app.model_names import LOSS_WORDS

    plot = LossPlot()
    qtbot.addWidget(plot)
    metrics = plot.fontMetrics()
    room = MARGIN_RIGHT - 12 - 22  # the legend's left inset and its colour swatch
    for words in LOSS_WORDS.values():
        assert metrics.horizontalAdvance(f"{words}  0.00953") <= room, words
