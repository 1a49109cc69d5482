"""Step 4 fine-tunes on the bundled sample photos by default, and says so (issue 21, 7)."""

from __future__ import annotations

from pathlib import Path

from desktop_app.phone import jobs
from desktop_app.phone.jobs import SAMPLES, WizardSetup, data_plan
from tests.desktop_app.helpers import save_photo


def test_with_no_photos_of_yours_it_trains_on_the_sample_photos() -> None:
    setup = WizardSetup()
    assert jobs.finetune_data(setup, "") == [SAMPLES]  # what the engine is given
    assert {p.name for p in SAMPLES.iterdir()} >= {"astronaut.png", "coffee.png"}
    plan = data_plan(setup, "")
    assert plan.samples == ("astronaut", "coffee") and plan.own == 0
    # Two photos: the engine keeps one aside (at least one each side), its centre crop.
    assert (plan.train, plan.val, plan.val_crops) == (1, 1, 1) and plan.exact
    text = plan.text()
    assert text.startswith("Trains on the 2 sample photos (astronaut, coffee): 1 to learn from")
    assert "1 kept aside to check progress on (1 crop)" in text
    assert "Add a folder of your own photos" in text


def test_your_photos_are_counted_with_the_samples(tmp_path: Path) -> None:
    for index in range(8):
        save_photo(tmp_path / "mine" / f"{index}.png")
    (tmp_path / "mine" / "notes.txt").write_text("not a photo")
    plan = data_plan(WizardSetup(), str(tmp_path / "mine"))
    assert plan.own == 8 and plan.train + plan.val == 10 and not plan.exact
    text = plan.text()
    assert text.startswith("Trains on your 8 photos and the 2 sample photos: about 9")
    assert "Add a folder" not in text


def test_step_4_says_what_it_trains_on(window) -> None:
    step = window.phone.wizard.finetune
    assert "2 sample photos (astronaut, coffee)" in step.data_note.text()
    assert "check progress on (1 crop)" in step.data_note.text()
