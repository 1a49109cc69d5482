"""Report files: the CSV survives a torn last row, pictures have the promised layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine.distill.report import PANELS, MetricsLog, plot_curves, side_by_side
from engine.distill.validation import ValImages


def test_resume_drops_rows_after_the_checkpoint_and_a_torn_last_row(tmp_path: Path):
    log = MetricsLog(tmp_path / "metrics.csv", keep_until=0)
    for step in (1, 2, 3):
        log.append(step, "warmup", 0.1, {"l_g_total": 0.5 / step})
    with (tmp_path / "metrics.csv").open("a") as file:
        file.write("4,war")  # what a kill -9 in the middle of a write leaves
    rows = MetricsLog(tmp_path / "metrics.csv", keep_until=4).read()
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    assert float(rows[1]["l_g_total"]) == 0.25 and rows[1]["l_d_total"] == ""
    assert [r["step"] for r in MetricsLog(tmp_path / "metrics.csv", keep_until=2).read()] == [
        "1",
        "2",
    ]


def test_a_log_with_its_own_columns_writes_only_those(tmp_path: Path):
    # A supernet run's metrics.csv: no stage column, its own loss names.
    path = tmp_path / "metrics.csv"
    fields = ("step", "seconds", "l_total", "l_inplace")
    log = MetricsLog(path, keep_until=0, fields=fields)
    log.append(1, "supernet", 0.25, {"l_total": 0.5, "l_inplace": 0.125, "l_g_total": 9.0})
    log.append(2, "supernet", 0.25, {"l_total": 0.25})
    assert path.read_text().splitlines() == [
        "step,seconds,l_total,l_inplace",
        "1,0.2500,0.5,0.125",
        "2,0.2500,0.25,",
    ]
    assert [r["step"] for r in MetricsLog(path, keep_until=1, fields=fields).read()] == ["1"]


def test_side_by_side_layout_and_plot(tmp_path: Path):
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    image = ValImages(lr=hr[::4, ::4], bicubic=hr, teacher=hr, student=hr // 2, hr=hr)
    side_by_side([image, image], tmp_path / "sbs.png")
    with Image.open(tmp_path / "sbs.png") as picture:
        zoom = 3  # 32 px crops are enlarged so the labels fit
        assert picture.size == (len(PANELS) * 32 * zoom, 14 + 2 * 32 * zoom)
        pixels = np.asarray(picture)
    student_panel = pixels[14 : 14 + 96, 3 * 96 : 4 * 96]
    assert np.array_equal(student_panel[::zoom, ::zoom], hr // 2)
    rows = [{"step": "1", "l_g_total": "0.5"}, {"step": "2", "l_g_total": "0.25"}]
    history = [{"step": 2, "student": {"psnr_teacher": 20.0, "psnr_gt": 18.0}}]
    plot_curves(rows, history, tmp_path / "curves.png")
    with Image.open(tmp_path / "curves.png") as picture:
        assert picture.format == "PNG" and picture.size == (1200, 400)
