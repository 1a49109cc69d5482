"""The search chart's name labels (reference networks, models, the shipped student) sit clear
of the points and of each other, even where the networks' times are close together."""

from __future__ import annotations

import itertools

from desktop_app.phone.pareto_plot import ParetoPlot


def test_labels_cover_no_point_and_no_other_label(qtbot) -> None:
    plot = ParetoPlot()
    qtbot.addWidget(plot)
    plot.resize(620, 320)
    for i in range(40):  # a cloud over the whole chart, down to its bottom edge
        plot.add(3.0 + i * 0.9, 28.0 + (i % 7) * 0.4, f"c{i}")
    plot.budget_ms = 22.0
    # Close together on the time axis: side by side, their labels overlapped before.
    plot.references = [("XLSR", 9.0), ("SESR-M5", 9.4), ("QuickSRNet small", 9.8)]
    plot.marks = [("Your model", 12.0)]
    plot.extra = [("Fast (MFAGAN)", 15.0, 29.0)]
    plot.pick(5)
    plot.grab()  # paints with the same placement
    metrics = plot.fontMetrics()
    placed = plot.label_boxes(metrics)
    assert [title for title, *_ in placed] == [
        "XLSR", "SESR-M5", "QuickSRNet small", "Your model", "Fast (MFAGAN)"
    ]
    boxes = [box for _, _, box, _ in placed]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.intersects(b), (a, b)
    for box in boxes:
        assert plot._area().contains(box)
        for marker in plot.markers(metrics):
            assert not box.intersects(marker), (box, marker)
