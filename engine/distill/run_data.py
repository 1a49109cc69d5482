"""What every run that learns from the teacher draws on: crops, their teacher outputs, batches.

``prepare_data`` scans the photo folders, splits them into the fixed train/val crop pool and
fills the teacher cache (the slow part, shared by all ranks and by every run with the same
data settings: distillation, supernet training, fine-tuning). The teacher is dropped once
the cache is full; only its config is kept, for the feature pairs. ``RunData.batch`` is a
step's batch for this rank, a pure function of the step (engine.distill.sampler).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.distill.config import DistillConfig
from engine.distill.data import CropPool, plan_crops, scan_images
from engine.distill.nets import feature_pairs
from engine.distill.parallel import Parallel
from engine.distill.sampler import Batch, collate, step_picks
from engine.distill.teacher_cache import Sample, TeacherCache
from engine.distill.teacher_net import load_teacher, weights_digest
from engine.errors import StorageError, UsageError
from engine.events import CancelToken, Event, TrainingSetup, result_of
from engine.models.rrdbnet import RRDBNetConfig
from engine.paths import cache_dir, why_unusable


@dataclass(frozen=True, kw_only=True)
class RunData:
    pool: CropPool
    train: TeacherCache
    val_samples: list[Sample]
    teacher_digest: str
    teacher_config: RRDBNetConfig
    train_images: int
    val_images: int

    def counts(self) -> dict[str, int]:
        """Images and crops on each side of the split, as run cards state them."""
        return {
            "train_images": self.train_images,
            "val_images": self.val_images,
            "train_crops": len(self.pool.train),
            "val_crops": len(self.pool.val),
        }

    def batch(self, step: int, config: DistillConfig, parallel: Parallel) -> Batch:
        """This rank's slice of the global batch of ``step``, on the run's device."""
        picks = step_picks(
            step,
            seed=config.seed,
            pool_size=len(self.pool.train),
            batch_size=config.schedule.batch_size,
            rank=parallel.rank,
            world=parallel.world,
            augment=config.data.augment,
        )
        samples = [self.train.load(self.pool.train[i]) for i, _ in picks]
        return collate(samples, [t for _, t in picks]).to(parallel.device)


def _fill_caches(
    config: DistillConfig, pool: CropPool, parallel: Parallel, cancel: CancelToken
) -> Iterator[Event]:
    """Run the teacher on every crop not cached yet (ranks share the work); returns
    (train cache, val cache, teacher digest, teacher config)."""
    teacher = load_teacher(config.teacher).to(parallel.device)
    digest = weights_digest(teacher)
    root = cache_dir() / "distill" / digest[:16]
    blocks = tuple(sorted({t for _, t in feature_pairs(config, teacher.config)}))
    train = TeacherCache(root=root, degradation=config.degradation, feature_blocks=blocks)
    val = TeacherCache(root=root, degradation=config.degradation)
    with _cache_in_the_way(root):
        for cache, crops, stage in (
            (train, pool.train, "teacher cache"),
            (val, pool.val, "teacher cache (val)"),
        ):
            yield from cache.build(
                crops,
                teacher,
                cancel=cancel,
                rank=parallel.rank,
                world=parallel.world,
                stage=stage,
            )
    parallel.barrier()
    if train.missing(pool.train) or val.missing(pool.val):
        raise RuntimeError(f"teacher cache incomplete after the build: {root}")
    return train, val, digest, teacher.config


@contextlib.contextmanager
def _cache_in_the_way(root: Path) -> Iterator[None]:
    """A file where a folder of the teacher cache goes (or a folder where an entry goes):
    a StorageError naming it (exit 1), not a NotADirectoryError traceback. Not moved aside
    as the ONNX cache does: the file may be the user's (a cache folder set to a wrong path)."""
    try:
        yield
    except OSError as error:
        named = Path(os.fsdecode(error.filename)) if error.filename else None
        if error.errno not in _IN_THE_WAY or named is None or not named.is_relative_to(root.parent):
            raise
        raise StorageError(
            named, f"{why_unusable(named, error)}; remove it, or MFAGAN_CACHE_DIR moves the cache"
        ) from None


_IN_THE_WAY = {errno.ENOTDIR, errno.EEXIST, errno.EISDIR}


def prepare_data(
    config: DistillConfig, out_dir: Path, parallel: Parallel, cancel: CancelToken
) -> Iterator[Event]:
    """Scan, split, cache teacher outputs; returns the RunData (``yield from``)."""
    if not config.data.dirs:
        raise UsageError("no training data: give at least one --data folder")
    made = not out_dir.is_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    images = yield from result_of(scan_images(config.data.dirs, config.data.hr_crop))
    pool = plan_crops(images, config.data, config.seed)
    n_val = len({c.image.digest for c in pool.val})
    yield TrainingSetup(
        train_images=len(images) - n_val,
        val_images=n_val,
        train_crops=len(pool.train),
        val_crops=len(pool.val),
        crop_px=config.data.hr_crop,
        device=str(parallel.device),
        processes=parallel.world,
    )
    try:
        train, val, digest, teacher_config = yield from _fill_caches(config, pool, parallel, cancel)
    except StorageError:
        if made:  # a run folder that would stay empty is not left behind (rmdir: only then)
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
    return RunData(
        pool=pool,
        train=train,
        val_samples=[val.load(c) for c in pool.val],
        teacher_digest=digest,
        teacher_config=teacher_config,
        train_images=len(images) - n_val,
        val_images=n_val,
    )


def teacher_summary(config: DistillConfig, data: RunData) -> dict[str, Any]:
    """The teacher as run cards name it: its spec and the digest of the weights used."""
    return {"spec": config.teacher, "weights_sha256": data.teacher_digest}
