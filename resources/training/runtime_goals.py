"""Issue 18 goals (maintainers), measured in one process, interleaved: student 512x512 tiled
as the app does, teacher on a 160x160 crop; onnxruntime fp32 vs auto (and PSNR of auto's output vs fp32).

`.venv/bin/python resources/training/runtime_goals.py STUDENT_ROUNDS TEACHER_ROUNDS` (3 2 here).
"""

import statistics, sys, time
import numpy as np
from PIL import Image
from engine.events import CancelToken, Finished
from engine.inference.upscale import Upscaler
from engine.models.registry import get_model
from engine.paths import RESOURCES

photo = (
    np.asarray(Image.open(RESOURCES / "samples" / "astronaut.png").convert("RGB"), np.float32) / 255
)


def run(up, planes):
    out = None
    for e in up.run(planes, CancelToken(), "t"):
        if isinstance(e, Finished):
            out = e.result
    return out


def psnr(a, b):
    mse = float(np.mean((np.clip(a, 0, 1).astype(np.float64) - np.clip(b, 0, 1)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(1 / mse)


for name, planes, rounds in (
    ("mfagan", photo[:512, :512], int(sys.argv[1])),
    ("realesrgan-x4plus", photo[150:310, 150:310], int(sys.argv[2])),
):
    d = get_model(name)
    ups = {k: Upscaler(d, backend=k) for k in ("onnx", "auto")}
    for u in ups.values():
        for _ in u.prepare():
            pass
    times = {k: [] for k in ups}
    outs = {}
    for r in range(rounds + 1):
        for k, u in ups.items():
            t = time.perf_counter()
            outs[k] = run(u, planes)
            dt = time.perf_counter() - t
            if r:
                times[k].append(dt)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"{name} {planes.shape[1]}x{planes.shape[0]}: onnx {med['onnx']:.2f} s (min {min(times['onnx']):.2f} max {max(times['onnx']):.2f}), "
        f"auto={ups['auto'].backend.name} {med['auto']:.2f} s (min {min(times['auto']):.2f} max {max(times['auto']):.2f}); "
        f"speed-up {med['onnx'] / med['auto']:.2f}x; auto vs onnx PSNR {psnr(outs['auto'], outs['onnx']):.1f} dB; rounds {rounds}"
    )
