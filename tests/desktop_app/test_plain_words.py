"""Plain words first, the numbers behind them in a tooltip or details line (issue 21, 10)."""

from __future__ import annotations

from desktop_app.model_names import loss_words, plain_description
from desktop_app.widgets.training_view import VALIDATION_COLUMNS, TrainingView
from desktop_app.widgets.upscale_options import builtin_entries

JARGON = ("PSNR", " dB", "teacher", "Set14")


def test_model_descriptions_say_it_plainly_and_keep_the_numbers_in_the_tooltip() -> None:
    fast = (
        "Fast, phone-sized, learnt from Best quality: 1.6 s for a 512×512 photo on a 2-core "
        "CPU; Set14: 25.85 dB PSNR-Y, +2.18 dB closer to the teacher than bicubic"
    )
    shown, details = plain_description(fast)
    assert "sharper and closer to Best quality than a plain enlargement" in shown
    assert not any(word in shown for word in JARGON)
    assert "25.85 dB PSNR-Y" in details and "+2.18 dB" in details
    best = "Sharpest detail, slowest: 115 s for a 512×512 photo; the teacher of Fast"
    shown, details = plain_description(best)
    assert shown.endswith("Fast learnt from it") and "teacher" not in shown
    assert plain_description("No AI, soft") == ("No AI, soft", "")


def test_the_model_list_shows_plain_descriptions(qtbot) -> None:
    for entry in builtin_entries():
        assert not any(word in entry.description for word in JARGON), entry.description
    scored = [e for e in builtin_entries() if "dB" in e.tooltip]
    assert scored, "the scores are kept in the tooltips"


def test_loss_legend_names_are_words() -> None:
    assert loss_words("l_g_fm") == "feature match"
    assert loss_words("l_g_distill") == "vs Best quality"
    assert loss_words("l_something_new") == "l_something_new"  # unknown: as it is


def test_the_check_picture_caption_agrees_with_its_labels(qtbot) -> None:
    view = TrainingView()
    qtbot.addWidget(view)
    # The engine labels the columns LR | bicubic | teacher | student | HR: the caption names
    # each in plain words with the picture's label beside it, in that order.
    labels = ["(LR)", "(bicubic)", "(teacher)", "(student)", "(HR)"]
    places = [VALIDATION_COLUMNS.index(label) for label in labels]
    assert places == sorted(places)
    assert "your model (student)" in view.columns.text()
