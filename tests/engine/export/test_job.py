"""The whole export job on a tiny student: files, card, README, atomicity, cancel, AI Hub."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from fake_qai_hub import FakeHub

from engine.events import Cancelled, CancelToken, Finished, Progress
from engine.export import bundle
from engine.export.install import MANIFEST_NAME
from engine.export.job import ExportResult, export_bundle
from engine.export.tflite import missing_reason
from engine.phones import aihub
from engine.phones.aihub_cache import measurements_dir

from .conftest import SIDE


def _result(events) -> ExportResult:
    results = [e.result for e in events if isinstance(e, Finished)]
    assert len(results) == 1
    return results[0]


def _no_leftovers(parent: Path) -> None:
    assert not [p.name for p in parent.iterdir() if ".part-" in p.name or ".old-" in p.name]


def test_onnx_int8_and_torchscript_bundle(request_for, tmp_path: Path) -> None:
    request = request_for("onnx", "onnx-int8", "torchscript")
    result = _result(list(export_bundle(request)))
    out = request.out_dir
    names = {"tiny-32.onnx", "tiny-dynamic.onnx", "tiny-32-int8.onnx", "tiny-32.pt"}
    assert set(result.files) == names
    assert {p.name for p in out.iterdir()} == names | {
        bundle.CARD_NAME,
        bundle.README_NAME,
        MANIFEST_NAME,
    }
    card = json.loads((out / bundle.CARD_NAME).read_text())
    assert card == result.card
    assert card["model"]["config"] == "b2-c16-g8-h10-conv-x4"
    assert card["input"]["shape_nchw"] == [1, 3, SIDE, SIDE]
    assert card["output"]["shape_nchw"] == [1, 3, 4 * SIDE, 4 * SIDE]
    assert card["cost"]["params"] > 0 and card["cost"]["macs"] > 0
    assert card["tiling"]["tile"] == SIDE and card["tiling"]["overlap_lr_px"] > 0
    assert {"gpu", "npu"} <= set(card["predicted_latency"])
    assert card["measured_latency"] is None
    files = {f["file"]: f for f in card["files"]}
    for name in ("tiny-32.onnx", "tiny-dynamic.onnx", "tiny-32.pt"):
        assert files[name]["max_abs_diff_vs_torch"] < 1e-5
        assert files[name]["fidelity"]["psnr_y_vs_float_db"] >= 60
    int8 = files["tiny-32-int8.onnx"]
    assert int8["precision"] == "int8" and 25 < int8["fidelity"]["psnr_y_vs_float_db"] < 100
    # Fidelity to the teacher (bicubic here): float measured, and what INT8 keeps of it.
    fidelity = card["fidelity"]
    loss = fidelity["int8_loss_vs_teacher_db"]["tiny-32-int8.onnx"]
    float_db = fidelity["float_psnr_y_vs_teacher_db"]
    assert loss == pytest.approx(float_db - int8["fidelity"]["psnr_y_vs_teacher_db"], abs=2e-3)
    assert card["calibration"]["source"] == "bundled crops" and card["calibration"]["crops"] == 8
    assert onnx.load(str(out / "tiny-32-int8.onnx")).ir_version == 8
    readme = (out / bundle.README_NAME).read_text()
    assert "tiny-32-int8.onnx" in readme and "Tile a photo" in readme
    # It describes what is in it (issue 21): ONNX here, no TFLite example for a missing file.
    assert "ONNX Runtime Mobile" in readme and "LiteRT" not in readme and "has no" not in readme
    tflite_only = card | {"files": [files["tiny-32.onnx"] | {"file": "tiny-32.tflite"}]}
    text = bundle.readme(tflite_only)
    assert '"tiny-32.tflite"' in text and "ONNX Runtime" not in text
    # Stands alone: no path of this machine in what a user would ship.
    for text in (readme, json.dumps(card)):
        assert str(tmp_path) not in text and "/work/" not in text and "/root" not in text
    _no_leftovers(tmp_path)


def test_rewriting_a_bundle_replaces_it_whole(request_for, tmp_path: Path) -> None:
    list(export_bundle(request_for("torchscript", teacher=None)))
    list(export_bundle(request_for("onnx", teacher=None)))
    names = {p.name for p in (tmp_path / "bundle").iterdir()}
    assert "tiny-32.pt" not in names and "tiny-32.onnx" in names
    _no_leftovers(tmp_path)


def test_cancel_leaves_no_files(request_for, tmp_path: Path) -> None:
    cancel = CancelToken()
    events = export_bundle(request_for("onnx", "torchscript", teacher=None), cancel=cancel)
    for event in events:
        if isinstance(event, Progress) and event.stage == "export" and event.done == 1:
            cancel.cancel()
            break
    with pytest.raises(Cancelled):
        list(events)
    assert not (tmp_path / "bundle").exists()
    _no_leftovers(tmp_path)


def test_user_calibration_photos_are_recorded_by_name_and_digest(
    request_for, tmp_path: Path
) -> None:
    from PIL import Image

    photos = tmp_path / "my photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)).save(photos / f"{i}.png")
    result = _result(
        list(export_bundle(request_for("onnx-int8", teacher=None, calibration=photos)))
    )
    info = result.card["calibration"]
    assert info["source"] == "your photos" and info["folder"] == "my photos"
    assert info["photos"] == 2 and len(info["photos_sha256"]) == 64


def test_aihub_with_fake_puts_compiled_model_and_measurement_in_the_bundle(
    request_for, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(tmp_path / "client.ini"))
    token = "s3cr3t-t0ken-never-in-a-bundle"
    aihub.store_token(token)
    hub = FakeHub()
    request = request_for("aihub", teacher=None, device="snapdragon-865")
    result = _result(list(export_bundle(request, hub=hub)))
    measured = result.card["measured_latency"]
    assert measured["inference_ms"] == pytest.approx(2.345)
    assert measured["device"] == "Samsung Galaxy Tab S7"  # the 865 profile's AI Hub device
    assert measured["off_unit_layers"] and "phone_vs_local_psnr_y_db" in measured
    assert (request.out_dir / measured["target_file"]).is_file()
    uploaded = hub.calls[0][1]["model"]
    assert uploaded.endswith(".onnx") and not Path(uploaded).exists()  # temp upload removed
    assert [c[0] for c in hub.calls] == ["compile", "profile", "inference"]
    for path in [*request.out_dir.iterdir(), *measurements_dir().rglob("*.json")]:
        assert token.encode() not in path.read_bytes()
    cached = aihub.cached_measurements(measured["device"])
    assert cached[0]["model"]["config"] == "b2-c16-g8-h10-conv-x4"
    assert cached[0]["model"]["precision"] == "int8" and cached[0]["model"]["macs"] > 0
    assert [layer["compute_unit"] for layer in measured["layers"]] == ["NPU", "NPU", "GPU", "NPU"]
    # A later export of the same weights and shape shows that measurement too.
    again = _result(list(export_bundle(request_for("torchscript", teacher=None))))
    assert again.card["measured_latency"]["profile_job"] == measured["profile_job"]
    assert again.card["measured_latency"]["from_cache"] is True


@pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))
def test_tflite_float_and_int8_in_the_litert_interpreter(request_for) -> None:
    result = _result(list(export_bundle(request_for("tflite", "tflite-int8"))))
    files = {f["file"]: f for f in result.card["files"]}
    assert files["tiny-32.tflite"]["input_layout"] == "NHWC"
    assert files["tiny-32.tflite"]["input_shape"] == [1, SIDE, SIDE, 3]
    assert files["tiny-32.tflite"]["max_abs_diff_vs_torch"] < 1e-4
    assert files["tiny-32-int8.tflite"]["fidelity"]["psnr_y_vs_float_db"] > 25


@pytest.mark.parametrize("bundle_exists", [False, True])
def test_a_full_disk_is_one_storage_error_and_leaves_no_part(
    request_for, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundle_exists: bool
) -> None:
    """ENOSPC faked on the bundle's files (issue 19): an older bundle there stays whole."""
    import errno
    import os

    from engine.errors import StorageError

    request = request_for("onnx", teacher=None)
    if bundle_exists:
        list(export_bundle(request))
    before = {p.name: p.read_bytes() for p in request.out_dir.iterdir()} if bundle_exists else {}
    real_write = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if ".part-" in self.parent.name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(StorageError) as caught:
        list(export_bundle(request))
    reason = "cannot write the bundle (no space left on device)"
    assert str(caught.value) == f"{request.out_dir}: {reason}"
    _no_leftovers(tmp_path)
    after = {p.name: p.read_bytes() for p in request.out_dir.iterdir()} if bundle_exists else {}
    assert after == before and request.out_dir.exists() == bundle_exists
