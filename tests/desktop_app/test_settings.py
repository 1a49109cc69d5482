"""Settings: typed sections survive a restart; a damaged file falls back, field by field."""

from __future__ import annotations

from pathlib import Path

from desktop_app.settings import (
    BatchSettings,
    RetrainSettings,
    SettingsStore,
    UpscaleSettings,
    WindowSettings,
    default_settings_path,
)


def test_sections_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "studio.ini"
    upscale = UpscaleSettings(
        model="bicubic",
        size_mode="width",
        width=1920,
        format="WEBP",
        quality=80,
        keep_metadata=False,
        output_dir="/tmp/out",
        name_pattern="{stem}-big",
        backend="torch",
        tile=128,
        user_models=("/models/a.pth", "/models/b.safetensors"),
    )
    retrain = RetrainSettings(
        folders=("/photos/a", "/photos/b"),
        steps=1200,
        measured={"warmup": 1.5, "teacher_crop": 0.25},
    )
    SettingsStore(path).save(upscale)
    SettingsStore(path).save(retrain)
    SettingsStore(path).save(BatchSettings(input_dir="/in", recursive=True, skip_existing=False))
    again = SettingsStore(path)
    assert again.load(UpscaleSettings) == upscale
    assert again.load(RetrainSettings) == retrain
    assert again.load(BatchSettings) == BatchSettings(
        input_dir="/in", recursive=True, skip_existing=False
    )
    assert again.load(WindowSettings) == WindowSettings()


def test_damaged_values_fall_back_to_defaults_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "studio.ini"
    path.write_text(
        "[upscale]\n"
        "quality=[95]\n"  # a list, not a number
        "scale=7\n"  # not a choice
        "keep_metadata=false\n"  # valid JSON: kept
        "model={not json\n"
        'name_pattern="\\"{stem}-x\\""\n'
    )
    loaded = SettingsStore(path).load(UpscaleSettings)
    assert loaded.keep_metadata is False
    assert loaded.quality == 95 and loaded.scale == 4 and loaded.model == ""
    assert loaded.name_pattern == "{stem}-x"


def test_out_of_range_values_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "studio.ini"
    path.write_text("[upscale]\nquality=0\ntile=100\nwidth=64\n[retrain]\nsteps=0\n")
    store = SettingsStore(path)
    assert store.load(UpscaleSettings) == UpscaleSettings(width=64)
    assert store.load(RetrainSettings) == RetrainSettings()


def test_settings_file_follows_the_override(tmp_path: Path) -> None:
    assert default_settings_path() == tmp_path / "config" / "studio.ini"


def test_window_choices_persist_across_restarts(make_window, store: SettingsStore) -> None:
    window = make_window(store)
    panel = window.upscale.settings
    panel.format.setCurrentIndex(panel.format.findData("JPEG"))
    panel.format.activated.emit(panel.format.currentIndex())
    panel.quality.setValue(72)
    panel.keep_metadata.setChecked(False)
    panel.size.setCurrentIndex(panel.size.findData(2))
    panel.size.activated.emit(panel.size.currentIndex())
    panel.output_dir.setText("/somewhere/results")
    panel.output_dir.editingFinished.emit()
    window.batch.recursive.setChecked(True)
    window.upscale.compare.show_side_by_side()
    window.show_page("batch")
    window.close()

    reopened = make_window(SettingsStore(store.path))
    value = reopened.options.value
    assert (value.model, value.format, value.quality, value.keep_metadata) == (
        "bicubic",
        "JPEG",
        72,
        False,
    )
    assert (value.size_mode, value.scale, value.output_dir) == ("scale", 2, "/somewhere/results")
    panel = reopened.upscale.settings
    assert panel.format.currentData() == "JPEG" and panel.quality.value() == 72
    assert panel.size.currentText() == "×2" and not panel.keep_metadata.isChecked()
    assert reopened.batch.recursive.isChecked()
    assert reopened.upscale.compare.view.mode == "side"
    assert reopened.tabs.currentWidget() is reopened.batch
    reopened.close()


def test_both_panels_show_the_same_settings(window) -> None:
    main_panel, batch_panel = window.upscale.settings, window.batch.settings
    main_panel.format.setCurrentIndex(main_panel.format.findData("WEBP"))
    main_panel.format.activated.emit(main_panel.format.currentIndex())
    assert batch_panel.format.currentData() == "WEBP"
    assert "lossless" in batch_panel.quality_hint.text()


def test_first_start_window_fits_a_small_screen():
    # Seen under Xvfb at 1280x800: a fixed 1320x820 first size put the Save buttons off-screen.
    from PySide6.QtCore import QSize

    from desktop_app.main_window import first_size

    assert first_size(QSize(1280, 800)) == QSize(1280, 800)
    assert first_size(QSize(1024, 700)) == QSize(1024, 700)
    assert first_size(QSize(2560, 1440)) == QSize(1320, 820)
