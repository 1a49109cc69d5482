"""Fast predicted latency of an MFA config, for search: no module built, nothing traced.

``predict_config_ms(profile, cfg, unit=..., precision=..., size=...)`` feeds the analytic op
list of :mod:`engine.phones.mfa_ops` to the same calibrated model that
:func:`engine.phones.predict.predict_latency` applies to a traced network, so both give the
same number (tested); a call costs tens of microseconds once the profile is calibrated (the
first call per profile calibrates it, about a second).
"""

from __future__ import annotations

import functools

from engine.errors import UsageError
from engine.models.mfa import MFAConfig
from engine.phones.calibration import calibration_for
from engine.phones.mfa_ops import mfa_ops
from engine.phones.model import LatencyEstimate


def _side(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


@functools.lru_cache(maxsize=65536)
def _predict(
    profile: str,
    cfg: MFAConfig,
    unit: str,
    precision: str | None,
    runtime: str | None,
    hw: tuple[int, int],
) -> LatencyEstimate:
    model = calibration_for(profile).model(unit, precision, runtime)
    return model.predict(mfa_ops(cfg, *hw))


def predict_config_ms(
    profile: str,
    cfg: MFAConfig,
    *,
    unit: str = "npu",
    precision: str | None = None,
    size: int | tuple[int, int] = 128,
    runtime: str | None = None,
) -> LatencyEstimate:
    """Predicted latency of one ``size`` (LR side, or (h, w)) forward pass of ``cfg``.

    ``profile`` is a profile id (``mfagan devices`` lists them), ``unit`` one of its compute
    units, ``precision`` one of that unit's precisions and ``runtime`` one of its runtimes
    (None: the first listed, e.g. ``w8a8`` and ``tflite``).
    Returns ``.ms`` with the band ``.low_ms``-``.high_ms`` of the unit's calibration error.
    UsageError (one line) for an unknown profile, unit or precision, or a size the config
    cannot take.
    """
    hw = _side(size)
    if min(hw) < 1 or any(side % cfg.size_multiple for side in hw):
        raise UsageError(
            f"size {hw[0]}x{hw[1]} is not a positive multiple of {cfg.size_multiple} "
            f"for {cfg.encode()}"
        )
    return _predict(profile, cfg, unit, precision, runtime, hw)
