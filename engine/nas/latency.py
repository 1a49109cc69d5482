"""The search's latency constraint: one predictor per target, ``predictor(cfg) -> ms``.

A phone target reads the phones package's analytic per-config model (tens of microseconds a
call, no network built); "this computer" reads the model of this machine fitted on timed
subnets (:mod:`engine.nas.host_latency`). Both give the estimate with its band, say what
the number rests on, and list the public reference networks' published latencies on that
target for the Pareto picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.errors import UsageError
from engine.models.mfa import MFAConfig
from engine.phones.model import LatencyEstimate

THIS_COMPUTER = "this-computer"
UNITS = ("gpu", "npu")
# The reference nets drawn on the Pareto picture, by AI Hub id (x4plus is off any phone scale).
PICTURED_REFERENCES = (
    "xlsr",
    "quicksrnetsmall",
    "quicksrnetmedium",
    "quicksrnetlarge",
    "sesr_m5",
    "real_esrgan_general_x4v3",
)


@dataclass(frozen=True, kw_only=True)
class ReferencePoint:
    """A public network's published latency on the target (no fidelity: other weights)."""

    key: str
    title: str
    ms: float


class LatencyPredictor(Protocol):
    size: int

    def __call__(self, config: MFAConfig) -> float: ...
    def label(self) -> str: ...
    def estimate(self, config: MFAConfig) -> LatencyEstimate: ...
    def describe(self) -> str: ...
    def references(self) -> tuple[ReferencePoint, ...]: ...


@dataclass(frozen=True, kw_only=True)
class PhoneLatency:
    """``profile``'s calibrated model of one compute unit, precision and runtime (None: the
    profile's first listed) for a ``size`` x ``size`` input."""

    profile: str
    unit: str
    precision: str | None
    size: int
    runtime: str | None = None

    def estimate(self, config: MFAConfig) -> LatencyEstimate:
        from engine.phones.config_latency import predict_config_ms

        return predict_config_ms(
            self.profile, config, unit=self.unit, precision=self.precision, size=self.size,
            runtime=self.runtime,
        )  # fmt: skip

    def __call__(self, config: MFAConfig) -> float:
        return self.estimate(config).ms

    def describe(self) -> str:
        return self.estimate(_PROBE).basis

    def _column(self):
        from engine.phones.calibration import calibration_for

        calibrated = calibration_for(self.profile)
        return calibrated.device, calibrated.fit(self.unit, self.precision, self.runtime).column

    def label(self) -> str:
        """e.g. ``Snapdragon 865 GPU w8a8 tflite, 128x128 input``."""
        device, column = self._column()
        return (
            f"{device.name} {self.unit.upper()} {column.precision} {column.runtime}, "
            f"{self.size}x{self.size} input"
        )

    def references(self) -> tuple[ReferencePoint, ...]:
        from engine.phones.reference_nets import reference_net

        device, column = self._column()
        if self.size != device.input_size[0]:
            return ()  # published figures are at the profile's size only
        measured = column.fit_points()
        return tuple(
            ReferencePoint(key=key, title=reference_net(key).title, ms=measured[key])
            for key in PICTURED_REFERENCES
            if key in measured
        )


_PROBE = MFAConfig(num_blocks=2, width=16, inner_width=8, half_res=(False, False))


def phone_latency(
    device: str, *, unit: str, precision: str | None, size: int, runtime: str | None = None
) -> PhoneLatency:
    """A checked phone predictor: UsageError (one line) for an unknown device, unit,
    precision or runtime, or a size no subnet can take."""
    from engine.phones.calibration import calibration_for
    from engine.phones.device import PHONES

    if not (PHONES / f"{device}.json").is_file():
        known = [p.stem for p in sorted(PHONES.glob("*.json"))] + [THIS_COMPUTER]
        raise UsageError(f"unknown device {device!r}; known: {', '.join(known)}")
    if size < 8 or size % 2:
        raise UsageError(f"--size must be an even number of pixels >= 8, not {size}")
    calibration_for(device).fit(unit, precision, runtime)  # raises for unknown names
    return PhoneLatency(profile=device, unit=unit, precision=precision, size=size, runtime=runtime)
