"""The cache of AI Hub profiles: a malformed entry is left out and named, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.phones.aihub_cache import (
    cached_measurements,
    measurements_dir,
    save_measurement,
    skipped_measurements,
)
from engine.phones.refine import cached_entries

GOOD = {
    "device": "Samsung Galaxy S24 (Family)",
    "compute_unit": "npu",
    "runtime": "tflite",
    "profile_job": "jgood",
    "inference_ms": 2.5,
    "layers_by_unit": {"NPU": 4},
    "measured_at": "2026-01-01T00:00:00+00:00",
    "model": {"config": "x"},
}


def _bad_entries() -> dict[str, object]:
    without_unit = {k: v for k, v in GOOD.items() if k != "compute_unit"}
    return {
        "no-unit": without_unit,
        "ms-text": GOOD | {"inference_ms": "fast"},
        "ms-bool": GOOD | {"inference_ms": True},
        "model-list": GOOD | {"model": ["x"]},
        "layers-list": GOOD | {"layers_by_unit": [1]},
        "device-null": GOOD | {"device": None},
        "a-list": [GOOD],
    }


@pytest.fixture
def cache() -> Path:
    save_measurement(GOOD)
    folder = measurements_dir() / "samsung-galaxy-s24-family"
    for name, entry in _bad_entries().items():
        (folder / f"{name}.json").write_text(json.dumps(entry))
    (folder / "torn.json").write_text('{"device": ')
    return folder


def test_malformed_entries_are_skipped_and_named(cache: Path) -> None:
    assert [e["profile_job"] for e in cached_measurements()] == ["jgood"]
    assert [e["profile_job"] for e in cached_measurements(GOOD["device"])] == ["jgood"]
    assert [e["profile_job"] for e in cached_entries()] == ["jgood"]
    skipped = {p.stem for p in skipped_measurements()}
    assert skipped == set(_bad_entries()) | {"torn"}


@pytest.mark.parametrize("extra", [[], ["--json"], ["--device", GOOD["device"]]])
def test_measurements_command_lists_the_good_and_says_one_line_on_the_rest(
    cache: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    assert main(["aihub", "measurements", *extra]) == 0
    out, err = capsys.readouterr()
    assert "2.5" in out and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("skipped 8 unreadable or malformed")


def test_an_entry_without_layers_still_lists(capsys: pytest.CaptureFixture[str]) -> None:
    save_measurement({k: v for k, v in GOOD.items() if k != "layers_by_unit"})
    assert main(["aihub", "measurements"]) == 0
    out, err = capsys.readouterr()
    assert "npu/tflite  2.50 ms  layers {}" in out and err == ""
