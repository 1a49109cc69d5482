"""Issue 18's 12 MP goal (maintainers): the bench's phone photo, upscaled by `mfagan upscale`
in a child process once per backend named, one after the other in one run; prints seconds,
the runtime that ran and the child's peak RSS.

`.venv/bin/python resources/training/phone_photo.py onnx auto`
"""

import sys

from engine.measure.bench_photo import PHONE_PHOTO, run_photo


def upscale(backend: str):
    job = run_photo(size=PHONE_PHOTO, model="mfagan", scale=4, backend=backend)
    try:
        while True:
            next(job)
    except StopIteration as done:
        return done.value


for backend in sys.argv[1:] or ["onnx", "auto"]:
    run = upscale(backend)
    peak = (run.peak_rss_bytes or 0) / 2**30
    ran = run.runtime or "?"
    print(f"{backend}: {run.seconds} s on {ran}, peak RSS {peak:.2f} GiB {run.error}")
