"""How far the teacher's output on an LR crop alone is from its output inside the photo.

    .venv/bin/python resources/training/teacher_context.py

For scikit-image's astronaut and chelsea: bicubic x4 down, the teacher on a 96x96 LR window,
then on centred crops of 32, 48 and 64 LR pixels alone; prints PSNR-Y (4 px shave) of the
crop's output against the same pixels of the window's output. This is why
``data.teacher_context`` exists (see README.md here).
"""

from __future__ import annotations

import numpy as np
import torch
from skimage import data as skdata

from engine.distill.teacher_net import load_teacher
from engine.measure.metrics import bicubic_down, to_uint8, y_scores

WINDOW = 96


def main() -> None:
    teacher = load_teacher("realesrgan-x4plus").eval()

    def run(lr: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(lr)).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():
            return to_uint8(teacher(x)[0].clamp(0, 1).permute(1, 2, 0).numpy())

    print("photo      crop  PSNR-Y vs in context")
    for name in ("astronaut", "chelsea"):
        hr = getattr(skdata, name)()
        hr = hr[: hr.shape[0] // 4 * 4, : hr.shape[1] // 4 * 4]
        lr = bicubic_down(hr, 4)[:WINDOW, :WINDOW]
        context = run(lr)
        for side in (32, 48, 64):
            at = (WINDOW - side) // 2
            alone = run(lr[at : at + side, at : at + side])
            same = context[4 * at : 4 * (at + side), 4 * at : 4 * (at + side)]
            psnr, _ = y_scores(alone, same, border=4)
            print(f"{name:<10} {side:>4}  {psnr:.2f} dB")


if __name__ == "__main__":
    main()
