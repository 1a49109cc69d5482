"""The goal-to-budget arithmetic and the saved wizard state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.phone.budget import photo_budget, photo_size, tile_count, video_budget
from desktop_app.phone.state import STATE_NAME, WizardState, load_state, save_state


def test_a_12_mp_photo_in_a_minute_on_128_px_tiles() -> None:
    assert photo_size(12) == (4000, 3000)
    budget = photo_budget(12, 60, 128)
    # MFA students want 64 px of overlap: a new tile every 64 px, 62 x 46 tiles
    assert (budget.overlap, budget.stride, budget.tiles) == (64, 64, 62 * 46)
    assert budget.per_tile_ms == pytest.approx(60_000 / 2852)
    assert "62 x 46 = 2852 tiles" in budget.text and "21.04 ms per tile" in budget.text


def test_video_frames_and_small_tiles_keep_half_a_tile_new() -> None:
    assert tile_count(64, 64, 32) == (9, 16, 16)
    budget = video_budget(640, 360, 25, 256)
    assert budget.tiles == tile_count(640, 360, 256)[0] == 3 * 2
    assert budget.per_tile_ms == pytest.approx(40 / 6)
    with pytest.raises(ValueError):
        video_budget(640, 360, 0, 128)
    with pytest.raises(ValueError):
        photo_budget(12, -1, 128)


def test_state_round_trips_and_a_damaged_file_gives_defaults(tmp_path: Path) -> None:
    state = WizardState(step=3, device="galaxy-s24", unit="npu", budget_ms=4.5, chosen="b2")
    save_state(state, tmp_path)
    assert load_state(tmp_path) == state
    (tmp_path / STATE_NAME).write_text("{not json")
    assert load_state(tmp_path) == WizardState()
    # a file from another version: unknown keys dropped, the step kept in range
    (tmp_path / STATE_NAME).write_text(json.dumps({"step": 42, "device": "x", "new_key": 1}))
    assert load_state(tmp_path) == WizardState(step=5, device="x")
    assert not [p for p in tmp_path.iterdir() if p.name != STATE_NAME]  # no temp files left
