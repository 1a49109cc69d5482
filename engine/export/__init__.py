"""Export a model for phones and desktops: ONNX, ONNX INT8, TFLite, TorchScript, AI Hub.

The API the GUI's export wizard (and ``mfagan export``) calls::

    from engine.export import ExportRequest, export_bundle, FORMATS

    request = ExportRequest(
        model="mfagan",                    # registry name or weights file
        formats=("onnx", "onnx-int8"),     # any of FORMATS
        out_dir=Path("~/mfagan-phone"),    # the bundle folder (written atomically)
        size=128,                          # LR tile side the phone files are fixed to
        device="snapdragon-865",           # phone profile; also names the AI Hub device
        calibration=None,                  # folder of the user's photos, None: bundled crops
    )
    for event in export_bundle(request, cancel=token):   # run it in a worker thread
        ...  # Progress(stage, done, total, message) / Notice(message) / Finished(result)

``Finished.result`` is an ``ExportResult``: ``out_dir``, ``files`` (names), ``card`` (the
model card as written, a dict: cost, per-file checks and fidelity, predicted and measured
latency) and ``seconds``. Bad requests raise ``UsageError`` / ``ModelError`` before any work;
``Cancelled`` after the token is set, with nothing left on disk. ``formats`` containing
``"aihub"`` needs a token (``engine.phones.aihub.token_configured()`` says whether one is
there; ``store_token`` writes one), else ``AihubError`` is raised at once.

Modules: ``request`` (ExportRequest), ``job`` (export_bundle), ``formats`` (one step per
format), ``onnx``, ``quantize``, ``tflite``, ``torchscript``, ``calibration`` (photo crops),
``fidelity`` (PSNR-Y vs float and teacher), ``bundle`` (model card and README), ``cli``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.export.request import FORMATS, ExportRequest

if TYPE_CHECKING:
    from engine.export.job import ExportResult, export_bundle

__all__ = ["FORMATS", "ExportRequest", "ExportResult", "export_bundle"]


def __getattr__(name: str) -> Any:
    # The job pulls in torch, onnx and onnxruntime (seconds): only a caller that runs an
    # export pays for them, not ``mfagan --version`` or another command's parser.
    if name in ("ExportResult", "export_bundle"):
        from engine.export import job

        return getattr(job, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
