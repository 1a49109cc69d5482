"""Loss plot: every named loss is drawn as a line, in its legend colour."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from desktop_app.widgets.loss_plot import (
    LEGEND_INSET,
    LEGEND_SWATCH,
    MARGIN_RIGHT,
    PALETTE,
    LossPlot,
)


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
    # Seen at 1024x700: "vs Best quality  0.0253" ran off the widget's right edge. The
    # legend takes the room its words need, never less than MARGIN_RIGHT.
    from desktop_app.model_names import LOSS_WORDS

    plot = LossPlot()
    qtbot.addWidget(plot)
    assert plot.legend_margin() == MARGIN_RIGHT  # nothing to name yet
    plot.add(1, "gan", dict.fromkeys(LOSS_WORDS, -1.23e-05))
    metrics = plot.fontMetrics()
    room = plot.legend_margin() - LEGEND_INSET - LEGEND_SWATCH
    for words in LOSS_WORDS.values():
        assert metrics.horizontalAdvance(f"{words}  -1.23e-05") <= room, words


def test_the_tooltip_names_each_loss_as_the_run_files_do(qtbot) -> None:
    # The legend says "realism check: yours"; what that is, and its column name, are here.
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.add(1, "teacher_d", {"l_td_real": 0.7, "l_td_fake": 0.6})
    plot.add(2, "gan", {"l_d_fake": 0.5})
    lines = plot.toolTip().splitlines()
    assert [line.rsplit("(", 1)[1] for line in lines] == ["l_d_fake)", "l_td_fake)", "l_td_real)"]
    assert lines[0].startswith("realism check: yours — ")
    plot.clear()
    assert plot.toolTip() == ""
