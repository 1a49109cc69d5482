"""Stop a model call that is already running, soon after its cancel token is set.

One 512 px tile of the Real-ESRGAN teacher takes minutes on two cores, so checking the token
between tiles is not enough for a cancel that should take about a second. PyTorch checks it
in a forward pre-hook of every submodule; onnxruntime runs in a worker thread and is stopped
through ``RunOptions.terminate``, which it honours before its next node.

The granularity is one layer (one aten op or ONNX node), which cannot itself be interrupted.
Measured on the teacher, two busy cores: a 128 px tile stops within 0.05 s; a 512 px tile
within 0.1 to 0.9 s in the RRDB body, but its last convolutions run at 2048 px (about 8 s
each) and take about a tenth of the tile's time: a cancel there waits for the layer.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnxruntime as ort
from torch import nn

from engine.events import Cancelled, CancelToken

# How often a caller waiting for onnxruntime looks at its cancel token: latency it adds to a
# cancel, never to a normal run (the wait ends as soon as the run does).
CANCEL_POLL_SECONDS = 0.05


@contextlib.contextmanager
def cancel_hooks(module: nn.Module, cancel: CancelToken | None) -> Iterator[None]:
    """Check ``cancel`` before every submodule's forward while the block runs."""
    if cancel is None:
        yield
        return
    cancel.raise_if_cancelled()
    owner = threading.get_ident()

    def check(_module: nn.Module, _args: tuple[Any, ...]) -> None:
        # The module may be shared with a run in another thread that has its own token (or
        # none): only this call's thread may be stopped by this call's token.
        if threading.get_ident() == owner:
            cancel.raise_if_cancelled()

    handles = [submodule.register_forward_pre_hook(check) for submodule in module.modules()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def run_session_abortable(
    session: ort.InferenceSession, inputs: dict[str, np.ndarray], cancel: CancelToken
) -> list[np.ndarray]:
    """``session.run`` in a worker thread, terminated once ``cancel`` is set (Cancelled).

    The caller waits instead of running it itself because a Python signal handler (the CLI's
    Ctrl-C sets the token) only runs in the main thread between bytecodes: blocked inside
    onnxruntime it would not run until the whole tile was done.
    """
    cancel.raise_if_cancelled()
    options = ort.RunOptions()
    options.log_severity_level = 4  # the terminate "error" is expected: keep stderr clean
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = session.run(None, inputs, options)
        except BaseException as error:  # handed to the caller's thread below
            outcome["error"] = error

    worker = threading.Thread(target=work, name="onnxruntime-run", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(CANCEL_POLL_SECONDS)
            if cancel.cancelled:
                options.terminate = True
                break
    finally:
        # Also reached by an exception in the wait (a second Ctrl-C's KeyboardInterrupt):
        # never leave a run behind, it would hold the cores and the memory.
        if worker.is_alive():
            options.terminate = True
        worker.join()
    if options.terminate:
        raise Cancelled("cancelled") from outcome.get("error")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
