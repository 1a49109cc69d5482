"""Helpers for the desktop app tests (import as ``tests.desktop_app.helpers``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data as skdata

# The teacher needs minutes per photo on a CPU; bicubic runs the same pipeline in milliseconds.
FAST_MODEL = "bicubic"
WAIT_MS = 60_000  # generous: the test machine is shared and slow


def save_photo(path: Path, name: str = "astronaut", *, box: tuple[int, int] = (48, 64)) -> Path:
    """A real photo (scikit-image's public-domain set), cropped small for speed."""
    pixels = getattr(skdata, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=2)
    height, width = box
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[100 : 100 + height, 100 : 100 + width]).save(path)
    return path


def assert_ready_after_stop(strip) -> None:
    """A stopped job leaves the strip ready: "Cancel" (greyed until the next job), an empty
    bar (a full one would say the job completed) and no time left."""
    assert strip.cancel.text() == "Cancel" and not strip.cancel.isEnabled()
    assert strip.bar.maximum() > 0 and strip.bar.value() == strip.bar.minimum()
    assert strip.left.text() == ""


def start_batch(window, source: Path, output: Path) -> None:
    page = window.batch
    window.show_page("batch")
    page.input_dir.setText(str(source))
    page.output_dir.setText(str(output))
    page.start_button.click()


def fill_retrain_form(qtbot, window, tmp_path: Path, *, name: str, steps: int):
    """The Retrain page with the tiny recipe, four photos counted, a name and steps set."""
    from support import tiny_distill_setup

    folders, config = tiny_distill_setup(tmp_path / "tiny")
    page = window.retrain
    window.show_page("retrain")
    page.form.config_file.setText(str(config))
    page.form.config_file.editingFinished.emit()
    page.form.name.setText(name)
    page.form.name_edited()
    page.form.steps.setValue(steps)
    with qtbot.waitSignal(page.form.photosCounted, timeout=WAIT_MS):
        page.set_folders(folders)
    assert page.form.photos == 4
    return page


def phone_page_with_tiny_model(qtbot, setup, wizard: Path):
    """The Phone page, shown, with a tiny user model "tiny" registered for it to pick."""
    from desktop_app.phone.page import PhonePage
    from desktop_app.workers import JobRunner
    from engine.distill.export import save_student
    from engine.models.mfa import MFAConfig, MFAGenerator
    from engine.models.registry import user_models_dir

    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    config = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(True, False))
    save_student(folder / "tiny.safetensors", MFAGenerator(config, seed=3))
    page = PhonePage(JobRunner(), setup, wizard)
    qtbot.addWidget(page)
    page.show()
    return page
