"""The analytic op list of an MFA config equals the traced one, and predicts the same."""

from __future__ import annotations

import random
import time

import pytest
import torch

from engine.errors import UsageError
from engine.models.mfa import (
    BLOCK_CHOICES,
    DEFAULT_CONFIG,
    INNER_WIDTH_CHOICES,
    SCALE_CHOICES,
    WIDTH_CHOICES,
    MFAConfig,
    MFAGenerator,
)
from engine.models.profiling import profile_model
from engine.phones.calibration import calibration_for
from engine.phones.config_latency import predict_config_ms
from engine.phones.mfa_ops import mfa_ops


def _random_configs(count: int, seed: int = 0) -> list[MFAConfig]:
    rng = random.Random(seed)
    configs = []
    for _ in range(count):
        width = rng.choice(WIDTH_CHOICES)
        blocks = rng.choice(BLOCK_CHOICES)
        configs.append(
            MFAConfig(
                num_blocks=blocks,
                width=width,
                inner_width=rng.choice([g for g in INNER_WIDTH_CHOICES if g <= width]),
                half_res=tuple(rng.random() < 0.5 for _ in range(blocks)),
                scale=rng.choice(SCALE_CHOICES),
                downsample=rng.choice(("conv", "avgpool")),
            )
        )
    return configs


def _traced(cfg: MFAConfig, height: int, width: int):
    with torch.device("meta"):
        module = MFAGenerator(cfg).eval()
    return profile_model(module, height=height, width=width, device="meta")


@pytest.mark.parametrize("cfg", _random_configs(12))
@pytest.mark.parametrize("size", [(32, 48), (30, 22)])
def test_analytic_ops_equal_the_traced_ones(cfg, size):
    if any(side % cfg.size_multiple for side in size):
        size = (size[0] + size[0] % 2, size[1] + size[1] % 2)
    traced = _traced(cfg, *size)
    analytic = mfa_ops(cfg, *size)
    assert analytic.ops == traced.ops
    assert analytic.macs == traced.macs
    assert analytic.params == sum(p.numel() for p in MFAGenerator(cfg).parameters())


@pytest.mark.parametrize(
    ("profile", "unit", "precision"),
    [
        ("snapdragon-865", "gpu", None),
        ("snapdragon-865", "npu", None),
        ("galaxy-s24", "npu", "w8a8"),
        ("galaxy-s22", "npu", "float"),
    ],
)
def test_fast_prediction_equals_the_traced_prediction(profile, unit, precision):
    runtime = "qnn_dlc" if profile == "galaxy-s24" else None
    model = calibration_for(profile).model(unit, precision, runtime)
    for cfg in [*_random_configs(4, seed=1), DEFAULT_CONFIG]:
        traced = model.predict(_traced(cfg, 64, 64))
        fast = predict_config_ms(
            profile, cfg, unit=unit, precision=precision, size=64, runtime=runtime
        )
        assert fast.ms == pytest.approx(traced.ms, rel=1e-9)
        assert (fast.low_ms, fast.high_ms) == pytest.approx((traced.low_ms, traced.high_ms))
        assert fast.caveats == traced.caveats


def test_fast_prediction_is_well_under_a_millisecond():
    configs = _random_configs(200, seed=2)
    predict_config_ms("galaxy-s24", configs[0], unit="npu")  # calibrates once
    start = time.perf_counter()
    for cfg in configs:
        predict_config_ms("galaxy-s24", cfg, unit="npu", size=96)
    per_call = (time.perf_counter() - start) / len(configs)
    assert per_call < 1e-3, f"{per_call * 1e3:.2f} ms per config"


def test_fast_prediction_refuses_bad_input():
    with pytest.raises(UsageError, match="multiple of 2"):
        predict_config_ms("snapdragon-865", DEFAULT_CONFIG, unit="gpu", size=33)
    with pytest.raises(UsageError, match="no phone profile 'nope'"):
        predict_config_ms("nope", DEFAULT_CONFIG, unit="gpu")
    with pytest.raises(UsageError, match="no unit 'dsp'"):
        predict_config_ms("snapdragon-865", DEFAULT_CONFIG, unit="dsp")
