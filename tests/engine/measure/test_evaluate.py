"""mfagan eval: the protocol, the always-present references, the teacher output cache."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata
from support import NearestX4, make_descriptor

import engine.models.registry as registry
from engine.events import Finished
from engine.measure.evaluate import EvalRequest, evaluate, render_table
from engine.measure.metrics import bicubic_down, bicubic_resize, modcrop, to_uint8, y_scores


class CountingNearest(NearestX4):
    calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        CountingNearest.calls += 1
        return super().forward(x)


class Darker(NearestX4):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * 0.9


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "set"
    folder.mkdir()
    Image.fromarray(skdata.astronaut()[40:110, 150:217]).save(folder / "a.png")  # 67x70
    Image.fromarray(skdata.camera()[100:164, 100:164]).save(folder / "grey.png")
    return folder


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    known = {
        "teacher": make_descriptor(CountingNearest(), name="teacher"),
        "darker": make_descriptor(Darker(), name="darker"),
    }
    monkeypatch.setattr(registry, "get_model", lambda name: known[name])
    return known


def _evaluate(request: EvalRequest):
    return next(e.result for e in evaluate(request) if isinstance(e, Finished))


def test_scores_follow_the_protocol_and_include_references(dataset: Path, models):
    result = _evaluate(
        EvalRequest(dataset=dataset, models=("darker", "teacher"), teacher="teacher")
    )
    assert list(result.scores) == ["bicubic", "teacher", "darker"]
    assert result.images == ("a.png", "grey.png")
    hr = modcrop(np.asarray(Image.open(dataset / "a.png").convert("RGB")), 4)
    assert hr.shape == (68, 64, 3)
    lr = bicubic_down(hr, 4)
    nearest = np.repeat(np.repeat(lr, 4, axis=0), 4, axis=1)
    darker = to_uint8(nearest.astype(np.float32) / np.float32(255) * np.float32(0.9))
    expected = y_scores(darker, hr, border=4)
    row = result.per_image["a.png"]["darker"]
    assert (row.psnr_gt, row.ssim_gt) == pytest.approx(expected, abs=1e-9)
    assert row.psnr_teacher == pytest.approx(y_scores(darker, nearest, border=4)[0], abs=1e-9)
    bicubic = result.per_image["a.png"]["bicubic"]
    assert bicubic.psnr_gt == pytest.approx(
        y_scores(bicubic_resize(lr, 64, 68), hr, border=4)[0], abs=1e-9
    )
    assert result.scores["teacher"].psnr_teacher is None
    assert result.as_dict()["scores"]["teacher"]["psnr_teacher"] is None
    assert "| darker |" in render_table(result) and "| bicubic |" in render_table(result)


def test_identical_model_gives_infinite_fidelity_as_null(dataset: Path, models):
    models["copy"] = make_descriptor(NearestX4(), name="copy")
    result = _evaluate(EvalRequest(dataset=dataset, models=("copy",), teacher="teacher"))
    assert math.isinf(result.scores["copy"].psnr_teacher)
    assert result.as_dict()["scores"]["copy"]["psnr_teacher"] is None
    assert "—" in render_table(result)


def test_teacher_outputs_are_cached_on_disk(
    dataset: Path, models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "own-cache"))
    request = EvalRequest(dataset=dataset, teacher="teacher")
    CountingNearest.calls = 0
    first = _evaluate(request)
    assert CountingNearest.calls == 2
    second = _evaluate(request)
    assert CountingNearest.calls == 2
    assert first.scores == second.scores


def test_two_models_of_one_name_keep_a_row_each(dataset: Path, models):
    # Two runs' files both load as "mfagan": each row is labelled as it was asked for.
    models["runs/a/mfagan-x4.safetensors"] = make_descriptor(Darker(), name="mfagan")
    models["runs/b/mfagan-x4.safetensors"] = make_descriptor(NearestX4(), name="mfagan")
    models["also-teacher"] = make_descriptor(Darker(), name="teacher")
    asked = ("runs/a/mfagan-x4.safetensors", "runs/b/mfagan-x4.safetensors", "also-teacher")
    result = _evaluate(EvalRequest(dataset=dataset, models=asked, teacher="teacher"))
    assert list(result.scores) == ["bicubic", "teacher", "mfagan", *asked[1:]]
    assert math.isinf(result.scores["runs/b/mfagan-x4.safetensors"].psnr_teacher)
    assert result.scores["mfagan"].psnr_teacher == result.scores["also-teacher"].psnr_teacher


def test_real_damage_gives_every_model_the_same_damaged_input(dataset: Path, models):
    """--degrade real: the LR is the real-world chain under the photo's own seed, the same in
    every run; bicubic and the models upscale that, and are scored against the clean HR."""
    from engine.measure.evaluate import damaged_lr, image_seed

    request = EvalRequest(dataset=dataset, models=("darker",), teacher="teacher", degrade="real")
    first, second = _evaluate(request), _evaluate(request)
    assert first.per_image["a.png"]["darker"] == second.per_image["a.png"]["darker"]
    hr = modcrop(np.asarray(Image.open(dataset / "a.png").convert("RGB")), 4)
    lr = damaged_lr(hr, image_seed(dataset / "a.png"), 4)
    assert lr.shape == (17, 16, 3) and lr.dtype == np.uint8
    assert not np.array_equal(lr, bicubic_down(hr, 4))
    nearest = np.repeat(np.repeat(lr, 4, axis=0), 4, axis=1)
    bicubic = first.per_image["a.png"]["bicubic"]
    assert bicubic.psnr_gt == pytest.approx(
        y_scores(bicubic_resize(lr, 64, 68), hr, border=4)[0], abs=1e-9
    )
    assert bicubic.psnr_teacher == pytest.approx(
        y_scores(bicubic_resize(lr, 64, 68), nearest, border=4)[0], abs=1e-9
    )
    clean = _evaluate(EvalRequest(dataset=dataset, models=("darker",), teacher="teacher"))
    assert clean.scores["bicubic"].psnr_gt > first.scores["bicubic"].psnr_gt
    assert "real-world damage" in first.protocol and "real-world" not in clean.protocol


def test_lr_folder_scores_fidelity_only(dataset: Path, models):
    """--lr DIR: the photos are the inputs (no ground truth); outputs are 4x their size."""
    result = _evaluate(
        EvalRequest(dataset=dataset, models=("darker",), teacher="teacher", lr_only=True)
    )
    row = result.per_image["a.png"]["darker"]
    assert row.psnr_gt is None and row.ssim_gt is None
    lr = np.asarray(Image.open(dataset / "a.png").convert("RGB"))  # 67x70, not modcropped
    nearest = np.repeat(np.repeat(lr, 4, axis=0), 4, axis=1)
    darker = to_uint8(nearest.astype(np.float32) / np.float32(255) * np.float32(0.9))
    assert row.psnr_teacher == pytest.approx(y_scores(darker, nearest, border=4)[0], abs=1e-9)
    assert result.as_dict()["scores"]["darker"]["psnr_gt"] is None
    assert "—" in render_table(result)


def test_unknown_or_contradictory_protocols_are_refused(dataset: Path):
    from engine.errors import UsageError

    with pytest.raises(UsageError, match="unknown degradation"):
        EvalRequest(dataset=dataset, degrade="jpeg")
    with pytest.raises(UsageError, match="no --degrade"):
        EvalRequest(dataset=dataset, degrade="real", lr_only=True)
