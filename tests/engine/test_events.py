"""The typed notices (TileChoice, TrainingSetup) carry their numbers as fields and print the
same terminal line the engine always printed, made from those fields."""

from __future__ import annotations

import dataclasses
import io

import pytest
from rich.console import Console

from engine.console import ConsoleRenderer
from engine.events import Finished, Notice, TileChoice, TrainingSetup

GIB = 2**30


def _printed(*events: Notice) -> list[str]:
    terminal = io.StringIO()
    renderer = ConsoleRenderer(Console(file=terminal, width=500))
    renderer.consume(iter([*events, Finished(result=0)]))
    return terminal.getvalue().splitlines()


def test_the_tile_choice_line_is_made_from_its_fields() -> None:
    plain = TileChoice(tile=512, budget_bytes=int(2.1 * GIB))
    held = TileChoice(tile=256, budget_bytes=GIB // 2, reserved_bytes=2 * GIB)
    assert isinstance(plain, Notice) and not plain.important
    assert _printed(plain, held) == [
        "tile size auto: 512 (budget 2.1 GiB)",
        "tile size auto: 256 (budget 0.5 GiB, after 2.0 GiB for the image itself)",
    ]
    assert dataclasses.replace(plain, tile=384).message == "tile size auto: 384 (budget 2.1 GiB)"


def test_the_training_setup_line_is_made_from_its_fields() -> None:
    setup = TrainingSetup(
        train_images=5, val_images=1, train_crops=40, val_crops=3, crop_px=128,
        device="cuda:1", processes=2,
    )  # fmt: skip
    assert isinstance(setup, Notice)
    assert _printed(setup) == [
        "5 training / 1 validation images, 40 / 3 crops of 128 px; device cuda:1, 2 process(es)"
    ]


def test_the_message_cannot_be_given_apart_from_the_fields() -> None:
    with pytest.raises(TypeError):
        TileChoice(message="tile size auto: 1", tile=512, budget_bytes=GIB)  # type: ignore[call-arg]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TileChoice(tile=512, budget_bytes=GIB).tile = 64  # type: ignore[misc]
