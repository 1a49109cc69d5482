"""The Phone tab's warm-up: first-use costs paid once, in a worker, before any job runs.

Importing and first uses run a lot of code with the GIL held; in the middle of a search or a
fine-tuning that starves the UI thread (the wizard's responsiveness test times it).
"""

from __future__ import annotations

import contextlib
import gc
import io
from collections.abc import Iterator
from typing import Any

from engine.events import CancelToken, Finished

# Modules the search and the fine-tuning import on first use (torch's compiler stack, sympy,
# matplotlib). Importing runs a lot of Python with the GIL held, and on a busy computer that
# starved the UI thread for up to a second in the middle of a job; importing them once when
# the Phone tab opens keeps the jobs themselves smooth.
WARM_MODULES = (
    "torch._dynamo", "sympy", "matplotlib.pyplot", "torch.distributed", "engine.nas.finetune",
    "engine.nas.report", "engine.nas.pick", "engine.distill.trainer", "engine.distill.parallel",
)  # fmt: skip


def warm_job(cancel: CancelToken) -> Iterator[Any]:
    import importlib

    import matplotlib

    matplotlib.use("Agg")  # pictures to files only; never a window from a worker thread
    for name in WARM_MODULES:
        cancel.raise_if_cancelled()
        # A build that leaves a module out only loses the head start, not the tab.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _warm_pictures_and_torch()
    # Python's full garbage collection walks every object (torch, matplotlib and sympy make
    # millions) with the GIL held: 0.7 s during which the UI thread cannot run. Objects that
    # exist now live as long as the app; freezing them keeps them out of every collection.
    gc.collect()
    gc.freeze()
    yield Finished(result=None)


def _warm_pictures_and_torch() -> None:
    """First uses whose C code holds the GIL for tens of milliseconds, done before any job.

    matplotlib loads each font face and size, and builds its text parsers, the first time a
    picture needs them: draw the search's own Pareto picture (log axis, annotations,
    legend) and a mathtext title (the fine-tuning's validation strip). torch sets up its
    convolution kernels on the first forward of a network.
    """
    from matplotlib.figure import Figure

    from engine.models.mfa import MFAConfig, MFAGenerator
    from engine.nas.latency import ReferencePoint
    from engine.nas.pareto import ParetoPicture, render_png

    points = [(10.0, 28.0), (12.0, 28.5), (14.0, 29.0)]
    render_png(
        ParetoPicture(
            title="warm-up", evolution=points, random=points, front=points, pick=points[-1],
            pick_label="pick", budget_ms=15.0, student=(20.0, 29.5),
            references=(ReferencePoint(key="a", title="A (x)", ms=6.0),),
        )
    )  # fmt: skip
    figure = Figure(figsize=(1, 1))
    figure.add_subplot().set_title("warm-up $x^2$")
    figure.savefig(io.BytesIO(), format="png")
    del figure
    import torch

    net = MFAGenerator(MFAConfig.decode("b2-c16-g8-h10-conv-x4")).eval()
    with torch.no_grad():
        net(torch.rand(1, 3, 16, 16))
