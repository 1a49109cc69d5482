"""Fitness: the eval protocol's PSNR-Y, validation patches aligned with the teacher's output
and cached on disk, scores cached by config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from support import NearestX4, rgb_noise

from engine.events import Finished
from engine.measure.metrics import psnr, rgb_to_y, shave
from engine.models.mfa import MFAConfig
from engine.nas.fitness import SHAVE, FidelityScorer, _luma, psnr_y
from engine.nas.space import SearchSpace
from engine.nas.supernet import Supernet
from engine.nas.valset import PatchPlan, build_validation_set

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _photos(folder: Path) -> tuple[Path, ...]:
    paths = []
    for i, (h, w) in enumerate(((96, 128), (80, 120))):
        path = folder / f"photo{i}.png"
        Image.fromarray(rgb_noise(h, w, seed=i)).save(path)
        paths.append(path)
    return tuple(paths)


def _build(plan: PatchPlan, root: Path, calls: list[int]):
    def teacher() -> torch.nn.Module:
        calls.append(1)
        return NearestX4()

    events = list(build_validation_set(plan, teacher=teacher, teacher_id="nearest", root=root))
    assert isinstance(events[-1], Finished)
    return events[-1].result


def test_psnr_y_is_the_eval_protocol():
    out = rgb_noise(40, 48, seed=1)
    ref = rgb_noise(40, 48, seed=2)
    expected = psnr(shave(rgb_to_y(out), SHAVE), shave(rgb_to_y(ref), SHAVE))
    out_t = torch.from_numpy(out).permute(2, 0, 1)[None].float() / 255
    ref_y = _luma(torch.from_numpy(ref).permute(2, 0, 1)[None])[:, SHAVE:-SHAVE, SHAVE:-SHAVE]
    assert psnr_y(out_t, ref_y) == pytest.approx(expected, abs=1e-4)


def test_patches_line_up_with_the_teacher_output_and_are_cached(tmp_path: Path):
    plan = PatchPlan(count=5, size=8, photos=_photos(tmp_path))
    calls: list[int] = []
    valset = _build(plan, tmp_path / "cache", calls)
    assert calls == [1]
    assert valset.lr.shape == (5, 3, 8, 8) and valset.teacher.shape == (5, 3, 32, 32)
    # The teacher is nearest x4 of the whole LR photo: its crop equals nearest x4 of the patch.
    expected = NearestX4()(valset.lr).mul(255).round().to(torch.uint8)
    assert torch.equal(valset.teacher, expected)
    again = _build(plan, tmp_path / "cache", calls)
    assert calls == [1]  # read from disk, teacher not loaded
    assert torch.equal(again.lr, valset.lr) and again.key == valset.key
    other = _build(PatchPlan(count=4, size=8, photos=plan.photos), tmp_path / "cache", calls)
    assert calls == [1, 1] and other.key != valset.key


class _Counting(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.forwards = net, 0

    def set_active(self, config: MFAConfig) -> None:
        self.inner.set_active(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.forwards += 1
        return self.inner(x)


def test_scores_are_cached_by_config_and_differ_between_subnets(tmp_path: Path):
    plan = PatchPlan(count=4, size=8, photos=_photos(tmp_path))
    valset = _build(plan, tmp_path / "cache", [])
    space = SearchSpace(blocks=(2, 3), widths=(16, 24), inner_widths=(8, 16))
    net = _Counting(Supernet(space, seed=3))
    scorer = FidelityScorer(net, valset)
    small, large = space.smallest(), space.largest()
    first = scorer(small)
    assert scorer(small) == first and net.forwards == 1
    assert scorer.uncached()(small) == first and net.forwards == 2
    assert np.isfinite(scorer(large)) and scorer(large) != first
