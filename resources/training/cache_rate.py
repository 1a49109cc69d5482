"""Issue 18 goal (maintainers): teacher-cache crops per minute, PyTorch fp32 against auto.

    .venv/bin/python resources/training/cache_rate.py CROPS [RECIPE]   (12 and mfagan-x4-real.toml)

The crops are planned as distillation plans them (``plan_crops`` with the recipe's ``[data]``
settings: teacher context windows, shared damage draws, the train/validation split), the
feature blocks are the recipe's: the in-context targets of a real run. The recipe takes one
crop from each of 1,109 photos, so CROPS + a few distinct photos are made from the bundled
samples (resources/samples/*.png, mirrored and turned, then trimmed) in a temp folder; more
crops per photo would let one pass over the whole photo serve several crops, a cheaper case
than the recipe's. The first CROPS training crops go into a fresh TeacherCache per runtime
(``teacher_runtime`` "torch", then "auto"), each in its own temp folder. Crops per minute are
printed without and with the runner's setup (the ONNX export, the bf16 check, the probe:
paid once per cache build), plus the runtime auto used and its targets' PSNR against torch's.
About 10 s per crop on PyTorch on 2 cores (a 64x64 LR window and two feature blocks each):
the default stays around 2 minutes there.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.distill import teacher_cache
from engine.distill.config import load_config
from engine.distill.data import plan_crops, scan_images
from engine.distill.nets import feature_pairs
from engine.distill.teacher_cache import TeacherCache
from engine.distill.teacher_net import load_teacher
from engine.events import CancelToken, Finished
from engine.paths import RESOURCES

crops_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 12
recipe = Path(sys.argv[2]) if len(sys.argv) > 2 else RESOURCES / "training" / "mfagan-x4-real.toml"
config = load_config(recipe)
TURNS = (None, *Image.Transpose)  # as is, then the 7 mirrors and turns: 8 distinct photos each


def make_photos(folder, count):
    samples = sorted((RESOURCES / "samples").glob("*.png"))
    for k in range(count):
        with Image.open(samples[k % len(samples)]) as image:
            photo = image.convert("RGB")
        turn = TURNS[(k // len(samples)) % len(TURNS)]
        photo = photo if turn is None else photo.transpose(turn)
        trim = 8 * (k // (len(samples) * len(TURNS)))  # past 16 photos: new content by trimming
        photo.crop((trim, trim, photo.width, photo.height)).save(folder / f"photo{k:03d}.png")


# The cache builds its runner itself: wrap the factory to time the setup apart from the crops.
setup_s = {}
make_runner = teacher_cache.make_runner


def timed_make_runner(teacher, blocks, runtime="auto"):
    start = time.perf_counter()
    runner = make_runner(teacher, blocks, runtime)
    setup_s[runtime] = time.perf_counter() - start
    return runner


teacher_cache.make_runner = timed_make_runner


def psnr(a, b):
    mse = float(torch.mean((a.clamp(0, 1).double() - b.clamp(0, 1).double()) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(1 / mse)


with tempfile.TemporaryDirectory(prefix="cache-rate-") as work:
    work = Path(work)
    (work / "photos").mkdir()
    # Validation takes about val_fraction of the photos (at least one); a few spare photos.
    make_photos(work / "photos", int(crops_wanted / (1 - config.data.val_fraction)) + 3)
    images = next(
        e.result
        for e in scan_images([work / "photos"], config.data.hr_crop)
        if isinstance(e, Finished)
    )
    pool = plan_crops(images, config.data, config.seed)
    crops = pool.train[:crops_wanted]
    teacher = load_teacher(config.teacher)
    blocks = tuple(sorted({t for _, t in feature_pairs(config, teacher.config)}))
    windows = sorted({c.window[2:] for c in crops if c.window}, reverse=True)
    print(
        f"{len(crops)} crops of {config.data.hr_crop} px from {len(images)} photos made from "
        f"resources/samples, planned by {recipe.name} (teacher context "
        f"{config.data.teacher_context} LR px, largest window {windows[0] if windows else '-'} "
        f"HR px), feature blocks {blocks}, {torch.get_num_threads()} threads"
    )
    with torch.no_grad():  # the first PyTorch call pays for thread pools, not timed
        teacher(torch.rand(1, 3, 16, 16))
    rates, caches = {}, {}
    for runtime in ("torch", "auto"):
        cache = TeacherCache(
            root=work / runtime,
            degradation=config.degradation,
            feature_blocks=blocks,
            teacher_runtime=runtime,
        )
        start = time.perf_counter()
        for _ in cache.build(crops, teacher, cancel=CancelToken()):
            pass
        total = time.perf_counter() - start
        crops_s = total - setup_s.get(runtime, 0.0)
        rates[runtime] = (60 * len(crops) / crops_s, 60 * len(crops) / total)
        caches[runtime] = cache
        ran = ", ".join(cache.runtime_info())
        print(
            f"{runtime} ({ran}): {total:.1f} s, of which setup {setup_s.get(runtime, 0.0):.1f} s; "
            f"{rates[runtime][0]:.1f} crops/min without setup, {rates[runtime][1]:.1f} with"
        )
    info = caches["auto"].runtime_info()
    close = [psnr(caches["auto"].load(c).teacher, caches["torch"].load(c).teacher) for c in crops]
    print(
        f"auto / torch: {rates['auto'][0] / rates['torch'][0]:.2f}x crops per minute without "
        f"setup, {rates['auto'][1] / rates['torch'][1]:.2f}x with (goal 3.5x); auto's targets "
        f"vs torch's: PSNR min {min(close):.1f} dB, mean {np.mean(close):.1f} dB"
    )
    print("auto ran:", json.dumps(info, sort_keys=True))
