"""The teacher's outputs (and chosen RRDB features) per crop, computed once, kept on disk.

The teacher costs about 1.3 s per 64x64 LR patch on 2 cores, far more than a student step,
so every crop of the fixed pool is run through it once. One safetensors file per crop holds
``lr``/``hr`` (uint8) and ``teacher``/``feat.{i}`` (float16). The file name is a hash of the
image content, crop box, degradation seed and config, teacher weights and feature blocks:
change any and the entry is simply a different file. Files are written to a temp name and
renamed, so an interrupted build leaves only whole entries and resumes where it stopped.

A crop with a ``window`` (``data.teacher_context``) is degraded and run through the teacher
as part of that window, and its entry holds the crop's part of the result: the teacher then
draws what it draws inside the photo, which a crop alone does not reproduce. Crops that share
a window and a degradation draw share one teacher pass.

The teacher runs on the fastest runtime here (``teacher_runner``: OpenVINO bf16 where the CPU
has it and it passes its check against fp32, else PyTorch). Each entry's metadata names the
runtime that computed it, and ``runtimes/<runtime>.json`` in the cache holds what a card
states about it (``runtime_info``), e.g. the bf16 targets' PSNR against fp32.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save

from engine.distill.config import SCALE, DegradationConfig
from engine.distill.data import Crop, cut, load_rgb
from engine.distill.degradation import degrade
from engine.distill.teacher_runner import TeacherRunner, make_runner, run_with_features
from engine.events import CancelToken, Event, Progress
from engine.files import atomic_write_bytes
from engine.models.rrdbnet import RRDBNet

__all__ = ["FEATURE_PREFIX", "Sample", "TeacherCache", "run_with_features"]

FEATURE_PREFIX = "feat."
CHUNK = 8  # crops per teacher forward: bounded memory, still amortises per-call overhead


@dataclass(frozen=True, kw_only=True)
class Sample:
    lr: torch.Tensor  # (3, h, w) float in [0, 1]
    hr: torch.Tensor  # (3, H, W)
    teacher: torch.Tensor  # (3, H, W), not clamped
    feats: dict[int, torch.Tensor]  # teacher RRDB index -> (C, h, w)


@dataclass(frozen=True, kw_only=True)
class TeacherCache:
    root: Path
    degradation: DegradationConfig
    feature_blocks: tuple[int, ...] = ()
    teacher_runtime: str = "auto"  # "torch" or "openvino" forces one (teacher_runner)

    def path(self, crop: Crop) -> Path:
        blocks = ",".join(map(str, self.feature_blocks))
        key = hashlib.sha256(f"{crop.key(self.degradation)}|feat={blocks}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.safetensors"

    def missing(self, crops: Sequence[Crop]) -> list[Crop]:
        return [crop for crop in crops if not self.path(crop).is_file()]

    def load(self, crop: Crop) -> Sample:
        tensors = load_file(str(self.path(crop)))
        return Sample(
            lr=tensors["lr"].float() / 255.0,
            hr=tensors["hr"].float() / 255.0,
            teacher=tensors["teacher"].float(),
            feats={
                int(name.removeprefix(FEATURE_PREFIX)): value.float()
                for name, value in tensors.items()
                if name.startswith(FEATURE_PREFIX)
            },
        )

    def build(
        self,
        crops: Sequence[Crop],
        teacher: RRDBNet,
        *,
        cancel: CancelToken,
        rank: int = 0,
        world: int = 1,
        stage: str = "teacher cache",
    ) -> Iterator[Event]:
        """Run the teacher on this rank's share of the missing crops (whole images per rank).

        The share is decided on all crops, not on the missing ones: ranks list the folder at
        different moments, and must still agree on who computes what.
        """
        by_image = [list(g) for _, g in groupby(crops, key=lambda c: c.image.digest)]
        mine = self.missing([crop for group in by_image[rank::world] for crop in group])
        done = 0
        yield Progress(stage=stage, done=0, total=len(mine))
        if not mine:
            return
        runner = make_runner(teacher, self.feature_blocks, self.teacher_runtime)
        self._record_runtime(runner)
        for _, group in groupby(mine, key=lambda c: c.image.digest):
            group = list(group)
            image = load_rgb(group[0].image.path)
            for chunk in _chunks(group):
                cancel.raise_if_cancelled()
                if chunk[0].window is None:
                    self._compute(chunk, image, runner, cancel)
                else:
                    self._compute_in_window(chunk, image, runner, cancel)
                done += len(chunk)
                yield Progress(stage=stage, done=done, total=len(mine))

    def runtime_info(self) -> dict[str, dict[str, object]]:
        """Runtime label -> what was recorded about it, for every runtime that built entries."""
        folder = self.root / "runtimes"
        info: dict[str, dict[str, object]] = {}
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                info[path.stem] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
        return info

    def _record_runtime(self, runner: TeacherRunner) -> None:
        path = self.root / "runtimes" / f"{runner.label}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(runner.info, indent=1, sort_keys=True).encode())

    def _compute(
        self, crops: list[Crop], image: np.ndarray, runner: TeacherRunner, cancel: CancelToken
    ) -> None:
        hrs = [cut(image, crop) for crop in crops]
        lrs = [
            degrade(hr, self.degradation, crop.seed) for crop, hr in zip(crops, hrs, strict=True)
        ]
        output, feats = self._run(runner, np.stack(lrs), cancel)
        for i, (crop, hr, lr) in enumerate(zip(crops, hrs, lrs, strict=True)):
            self._save(crop, hr, lr, output[i], {b: v[i] for b, v in feats.items()}, runner)

    def _compute_in_window(
        self, crops: list[Crop], image: np.ndarray, runner: TeacherRunner, cancel: CancelToken
    ) -> None:
        """Crops sharing one window and draw: one teacher pass, each crop cut from it."""
        top, left, height, width = crops[0].window
        hr_window = image[top : top + height, left : left + width]
        lr = degrade(hr_window, self.degradation, crops[0].seed)
        output, feats = self._run(runner, lr[None], cancel)
        for crop in crops:
            dy, dx = crop.top - top, crop.left - left
            ly, lx, side = dy // SCALE, dx // SCALE, crop.size // SCALE
            self._save(
                crop,
                cut(image, crop),
                lr[ly : ly + side, lx : lx + side],
                output[0, :, dy : dy + crop.size, dx : dx + crop.size],
                {b: v[0, :, ly : ly + side, lx : lx + side] for b, v in feats.items()},
                runner,
            )

    @staticmethod
    def _run(
        runner: TeacherRunner, lrs: np.ndarray, cancel: CancelToken
    ) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
        x = np.ascontiguousarray(lrs.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0
        outputs = runner.run(x, cancel)
        return outputs.image, outputs.feats

    def _save(
        self,
        crop: Crop,
        hr: np.ndarray,
        lr: np.ndarray,
        output: torch.Tensor,
        feats: dict[int, torch.Tensor],
        runner: TeacherRunner,
    ) -> None:
        tensors = {
            "lr": torch.from_numpy(np.ascontiguousarray(lr.transpose(2, 0, 1))),
            "hr": torch.from_numpy(_to_uint8_chw(hr)),
            "teacher": output.to("cpu", torch.float16).contiguous(),
        }
        for block, value in feats.items():
            tensors[f"{FEATURE_PREFIX}{block}"] = value.to("cpu", torch.float16).contiguous()
        _atomic_save(tensors, self.path(crop), {"teacher_runtime": runner.label})


def _chunks(crops: list[Crop]) -> Iterator[list[Crop]]:
    """Crops of one image: up to CHUNK lone crops per batch, or all crops of one window."""
    lone = [c for c in crops if c.window is None]
    for start in range(0, len(lone), CHUNK):
        yield lone[start : start + CHUNK]
    windows: dict[tuple[int, tuple[int, int, int, int]], list[Crop]] = {}
    for crop in crops:
        if crop.window is not None:
            windows.setdefault((crop.seed, crop.window), []).append(crop)
    yield from windows.values()


def _to_uint8_chw(image: np.ndarray) -> np.ndarray:
    quantised = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(quantised.transpose(2, 0, 1))


def _atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, save(tensors, metadata))
