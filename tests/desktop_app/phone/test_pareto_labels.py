"""The search chart's name labels (reference networks, models, the shipped student) sit clear
of the points and of each other, even where the networks' times are close together."""

from __future__ import annotations

import itertools

from desktop_app.phone.pareto_plot import ParetoPlot, front_of, leader_box


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


# The shipped search's reference networks on the Snapdragon 865 GPU (ms a 128 px tile): in a
# real window SESR-M5's label sat over QuickSRNetLarge's tick, whose dotted line then ran
# through it, and the front's line crossed QuickSRNetSmall's name.
REFERENCES = [("XLSR", 5.39), ("QuickSRNetSmall", 5.12), ("QuickSRNetMedium", 7.14),
              ("QuickSRNetLarge", 33.37), ("SESR-M5 (uncollapsed)", 27.43),
              ("Real-ESRGAN general x4v3 (SRVGGNetCompact)", 83.4)]  # fmt: skip


def _search_like(qtbot) -> ParetoPlot:
    plot = ParetoPlot()
    qtbot.addWidget(plot)
    plot.resize(812, 400)
    for i in range(60):  # a front rising from the chart's bottom left, as a search gives
        ms = 5.0 * 1.035**i
        plot.add(ms, 27.4 + 2.0 * (i / 59) ** 0.7 - (i % 5) * 0.15, f"c{i}")
    plot.budget_ms = 21.04
    plot.references = REFERENCES
    plot.extra = [("Fast (MFAGAN)", 21.3, 29.38)]
    plot.pick(40)
    plot.grab()
    return plot


def test_no_dotted_line_runs_through_another_label(qtbot) -> None:
    plot = _search_like(qtbot)
    placed = plot.label_boxes(plot.fontMetrics())
    for title, anchor, box, _ in placed:
        line = leader_box(anchor, box)
        if line is None:
            continue
        for other, _, other_box, _ in placed:
            if other != title:
                assert not line.intersects(other_box), (title, other)
    boxes = [box for _, _, box, _ in placed]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.intersects(b), (a, b)


def test_no_label_is_written_across_the_front(qtbot) -> None:
    plot = _search_like(qtbot)
    to_screen = plot._mapper()
    front = [to_screen(*plot.points[i]) for i in front_of(plot.points)]
    for _, _, box, _ in plot.label_boxes(plot.fontMetrics()):
        for a, b in itertools.pairwise(front):
            for k in range(21):  # the segment, finely: the markers sample it every 3 px
                assert not box.contains(a + (b - a) * (k / 20)), box


def test_names_are_not_written_across_the_budget_line(qtbot) -> None:
    # SESR-M5's name went left of its tick, the dashed budget line through "uncollapsed".
    plot = _search_like(qtbot)
    x = plot._mapper()(plot.budget_ms, 0).x()
    for title, _, box, _ in plot.label_boxes(plot.fontMetrics()):
        assert not box.left() <= x <= box.right(), title
