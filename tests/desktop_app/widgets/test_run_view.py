"""The training check line under the picture: plain words, every number in its place."""

from __future__ import annotations

from desktop_app.widgets.run_view import validation_text


def summary(*steps: tuple[int, float, float]) -> dict:
    runs = [
        {"step": step, "student": {"psnr_teacher": teacher, "psnr_gt": gt}}
        for step, teacher, gt in steps
    ]
    best = max(runs, key=lambda run: run["student"]["psnr_teacher"])
    return {"validation": runs, "bicubic": {"psnr_teacher": 27.31}, "best": best}


def test_the_check_line_speaks_of_the_app_not_of_teacher_and_student() -> None:
    text = validation_text(summary((3, 33.19, 29.5), (30, 32.55, 29.0)))
    assert text == (
        "Step 30: how close to Best quality (higher is closer): your model 32.55 dB, plain "
        "enlargement 27.31 dB; your model to your originals: 29.00 dB. "
        "Best so far: step 3 (33.19 dB)."
    )
    for jargon in ("teacher", "student", "PSNR", "bicubic"):
        assert jargon not in text


def test_no_best_so_far_when_the_last_check_is_the_best() -> None:
    text = validation_text(summary((10, 30.0, 28.0), (20, 31.0, 28.5)))
    assert text.startswith("Step 20: ") and "Best so far" not in text
    assert validation_text({}) == ""
