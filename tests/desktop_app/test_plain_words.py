"""Plain words first, the numbers behind them in a tooltip or details line (issue 21, 10)."""

from __future__ import annotations

import html
from pathlib import Path

from desktop_app import jobs
from desktop_app.jobs import UpscaleOutcome
from desktop_app.model_names import (
    LOSS_WORDS,
    MODEL_FILE_HINT,
    STAGE_WORDS,
    loss_meaning,
    loss_words,
    model_file_message,
    plain_description,
    shown_title,
)
from desktop_app.upscale.saving import describe, technical_details
from desktop_app.widgets.training_view import VALIDATION_COLUMNS, TrainingView
from desktop_app.widgets.upscale_options import builtin_entries
from engine.events import CancelToken, Finished
from engine.inference.upscale import TargetSize
from engine.models.registry import list_models
from tests.desktop_app.helpers import FAST_MODEL, WAIT_MS, save_photo

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


def test_loss_legend_and_stages_say_what_they_check() -> None:
    # "judge: ours", "judge: Best q." and "judge warms up" in the loss plot (and "ours" was
    # the teacher discriminator's loss on Best quality's results, not on your model's).
    for key, words in LOSS_WORDS.items():
        assert "judge" not in words and "q." not in words and "l_" not in words, key
    assert loss_words("l_d_fake") == "realism check: yours"
    assert loss_words("l_td_fake") == "Best quality check: results"
    assert "judge" not in " ".join(STAGE_WORDS.values())
    # The raw names stay in the tooltip, with what each measures.
    assert loss_meaning("l_td_fake").endswith("spots Best quality's results (l_td_fake)")
    assert loss_meaning("l_new") == "l_new"


def _outcome(model: str, title: str) -> UpscaleOutcome:
    return UpscaleOutcome(
        source=Path("photo.png"),
        staged=Path("photo.raw"),
        preview=None,  # type: ignore[arg-type]
        model_name=model,
        scale_label="x4",
        model_title=title,
        details={"model": model, "backend": "torch", "tile": 512, "seconds": 1.0},
    )


def test_the_result_line_names_the_model_as_the_model_menu_does() -> None:
    # "realesrgan-x4plus-anime", "mfagan", "bicubic" in the line under the images.
    for descriptor in list_models():
        outcome = _outcome(descriptor.name, shown_title(descriptor))
        line = describe(outcome)
        assert line.startswith(f"<b>{html.escape(shown_title(descriptor))}</b>"), line
        assert f"<b>{descriptor.name}</b>" not in line
        assert f"Model: {descriptor.name}" in technical_details(outcome)
    fast = describe(_outcome("mfagan", "Fast (MFAGAN)"))
    assert fast.startswith("<b>Fast (MFAGAN)</b>")


def test_a_real_result_is_named_by_its_menu_name(tmp_path: Path) -> None:
    photo = save_photo(tmp_path / "photo.png")
    request = jobs.UpscaleRequest(
        source=photo,
        model=jobs.ModelChoice(spec=FAST_MODEL),
        target=TargetSize(scale=4),
        stage_dir=tmp_path / "stage",
    )
    events = jobs.upscale_job(request, jobs.UpscalerPool(), CancelToken())
    outcome = next(e.result for e in events if isinstance(e, Finished))
    assert describe(outcome).startswith("<b>Plain enlarge (bicubic, no AI)</b>")


def test_a_refused_pickle_is_said_plainly_with_the_reason_kept_apart(
    window, qtbot, tmp_path: Path, dialogs: list[str]
) -> None:
    # "corrupt pickle data, or pickle opcodes outside the safe subset" was the whole message.
    bad = tmp_path / "notes.pth"
    bad.write_bytes(b"not a checkpoint at all")
    window.open_model_file(bad, select=True)
    qtbot.waitUntil(lambda: bool(dialogs), timeout=WAIT_MS)
    said, details = dialogs[0].split("\n\n")
    assert said.startswith(f"{bad}: not a model file this app can read safely (it may contain")
    words = said.removeprefix(f"{bad}: ")
    assert "pickle" not in words and "use a .safetensors or .pth file" in words
    assert details.startswith("Technical details:") and "pickle opcodes" in details
    # Other model file problems keep their own words and the hint, with no details.
    plain, none = model_file_message("/x/a.pth: unsupported model architecture")
    assert plain.endswith(MODEL_FILE_HINT) and none == ""
    refused = "/x/a.pth: refused: it contains pickled Python code, not just weights (GLOBAL x)"
    plain, technical = model_file_message(refused)
    assert "may contain code" in plain and technical.endswith("(GLOBAL x)")
