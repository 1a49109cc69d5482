"""build_profiles copies the wheel's figures into profiles, typing none of them by hand."""

from __future__ import annotations

import json
import zipfile

import pytest
import yaml

from engine.errors import UsageError
from engine.phones.build_profiles import build
from engine.phones.calibration import calibrate, reference_reports
from engine.phones.device import load_device_profile
from engine.phones.reference_nets import REFERENCE_NETS

DEVICE = "Fake Phone 5G"
CHIPSETS = {
    "chipsets": {
        "qualcomm-fake-8": {
            "aliases": ["qualcomm-fake-8", "sm9999-ab"],
            "htp_version": 77,
            "marketing_name": "Snapdragon® 8 Fake Mobile",
            "world": "Mobile",
        },
        "qualcomm-iot-1": {
            "aliases": ["qcs1"],
            "htp_version": 60,
            "marketing_name": "I",
            "world": "IoT",
        },
    },
    "devices": {DEVICE: {"chipset": "qualcomm-fake-8"}, "Fake Tab": {"chipset": "qualcomm-fake-8"}},
}


def _published(key: str, precision: str) -> float:
    """Some figure per net that grows with its work, distinct per precision."""
    gmacs = reference_reports(128, 128)[key].macs / 1e9
    return round((0.3 + gmacs / 9.0) * (1.0 if precision == "w8a8" else 3.1), 3)


def _run(key: str, precision: str, unit: str = "NPU") -> dict:
    return {
        "inference_time_milliseconds": _published(key, precision),
        "primary_compute_unit": unit,
        "layer_counts": {unit.lower(): 10, "total": 10},
    }


def _perf(key: str) -> dict:
    # XLSR ran on the GPU in w8a8: it must be kept on record but left out of the NPU fit.
    w8a8_unit = "GPU" if key == "xlsr" else "NPU"
    return {
        "precisions": {
            "w8a8": {"components": {"M": {"performance_metrics": {
                DEVICE: {"tflite": _run(key, "w8a8", w8a8_unit)},
                "Other Phone": {"tflite": _run(key, "w8a8")},
            }}}},
            "float": {"components": {"M": {"performance_metrics": {
                DEVICE: {"qnn_dlc": _run(key, "float")},
            }}}},
        }
    }  # fmt: skip


@pytest.fixture
def wheel(tmp_path):
    path = tmp_path / "qai_hub_models-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "qai_hub_models-9.9.9.dist-info/METADATA", "Name: qai-hub-models\nVersion: 9.9.9\n"
        )
        zf.writestr("qai_hub_models/devices_and_chipsets.yaml", yaml.safe_dump(CHIPSETS))
        for net in REFERENCE_NETS:
            zf.writestr(
                f"qai_hub_models/models/{net.key}/perf.yaml", yaml.safe_dump(_perf(net.key))
            )
    return path


def test_profile_holds_the_wheels_figures(wheel, tmp_path):
    out = tmp_path / "phones"
    written = build(wheel, out, {DEVICE: "fake-phone"})
    assert [p.name for p in written] == ["fake-phone.json", "chipsets.json"]
    data = json.loads((out / "fake-phone.json").read_text(encoding="utf-8"))
    assert data["package"] == "qai-hub-models==9.9.9" and data["aihub_devices"] == [DEVICE]
    assert data["aihub_devices_same_chipset"] == ["Fake Tab"]
    assert data["chipset"] == "Snapdragon 8 Fake Mobile" and data["soc_models"] == ["sm9999-ab"]
    assert data["htp_version"] == 77
    w8a8, flt = data["columns"]
    assert (w8a8["unit"], w8a8["precision"], w8a8["runtime"]) == ("npu", "w8a8", "tflite")
    assert (flt["precision"], flt["runtime"], flt["activation_bytes_per_element"]) == (
        "float",
        "qnn_dlc",
        2,
    )
    for net in REFERENCE_NETS:
        assert w8a8["measurements_ms"][net.key] == _published(net.key, "w8a8")
        assert flt["measurements_ms"][net.key] == _published(net.key, "float")
    assert list(w8a8["excluded_from_fit"]) == ["xlsr"]
    calibrated = calibrate(load_device_profile(out / "fake-phone.json"))
    assert "xlsr" not in {p.key for p in calibrated.fit("npu").loo.points}
    assert calibrated.fit("npu").loo.mean == pytest.approx(
        w8a8["loo_mean_relative_error"], abs=5e-4
    )
    chips = json.loads((out / "soc" / "chipsets.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in chips["chipsets"]] == ["qualcomm-fake-8"]  # mobile only


def test_unknown_device_or_bad_wheel_is_a_usage_error(wheel, tmp_path):
    with pytest.raises(UsageError, match="not in the wheel's device table"):
        build(wheel, tmp_path / "out", {"No Such Phone": "x"})
    bad = tmp_path / "bad.whl"
    bad.write_text("not a zip", encoding="utf-8")
    with pytest.raises(UsageError, match="not a readable wheel"):
        build(bad, tmp_path / "out")
