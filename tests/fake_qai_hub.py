"""A stand-in for the ``qai_hub`` module (0.56): same call signatures, same result shapes.

Signatures copied from qai_hub/client.py 0.56 (``Client.submit_compile_job`` etc.); the
profile dict has the shape ``_profile_pb_to_python_dict`` builds (``execution_summary`` with
``estimated_inference_time`` in microseconds and ``*_memory_peak_range`` pairs,
``execution_detail`` rows of name / type / compute_unit / execution_time). Exceptions are
the real ``qai_hub.UserError`` and ``requests.ConnectionError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests
from qai_hub import UserError

LAYERS = (
    ("/module/head/Conv", "Conv2d", "NPU"),
    ("/module/body/body.0/full1/Conv", "Conv2d", "NPU"),
    ("/module/DepthToSpace", "DepthToSpace", "GPU"),
    ("/module/Add_1", "ElementWiseAdd", "NPU"),
)


@dataclass(frozen=True)
class Device:
    """As ``qai_hub.Device``: name, os, attributes."""

    name: str = ""
    os: str = ""
    attributes: str | list[str] = field(default_factory=list)


@dataclass
class JobStatus:
    state: str
    message: str | None = None

    @property
    def code(self) -> str:
        return self.state

    @property
    def success(self) -> bool:
        return self.state == "SUCCESS"

    @property
    def failure(self) -> bool:
        return self.state == "FAILED"

    @property
    def finished(self) -> bool:
        return self.success or self.failure


@dataclass
class _Job:
    job_id: str
    model: Any
    device: Device
    name: str | None
    options: str
    polls_before_done: int = 1
    fail_message: str | None = None

    def get_status(self) -> JobStatus:
        if self.polls_before_done > 0:
            self.polls_before_done -= 1
            return JobStatus("RUNNING")
        if self.fail_message is not None:
            return JobStatus("FAILED", self.fail_message)
        return JobStatus("SUCCESS")

    def wait(self, timeout: int | None = None) -> JobStatus:
        self.polls_before_done = 0
        return self.get_status()


@dataclass
class CompileJob(_Job):
    def get_target_model(self) -> str | None:
        return None if self.fail_message else f"target-of-{self.job_id}"

    def download_target_model(self, filename: str) -> str | None:
        if self.fail_message:
            return None
        Path(filename).write_bytes(b"compiled model bytes from the fake hub")
        return filename


@dataclass
class InferenceJob(_Job):
    inputs: Any = None
    profile: dict[str, Any] | None = None

    def download_profile(self, filename: str | None = None) -> dict[str, Any]:
        return {} if self.fail_message else dict(self.profile or {})

    def download_output_data(self, filename: str | None = None) -> dict[str, list] | None:
        if self.inputs is None or self.fail_message:
            return None
        # A x4 nearest upscale of each input stands in for the phone's output.
        outputs = [np.repeat(np.repeat(x, 4, axis=2), 4, axis=3) for x in self.inputs["input"]]
        return {"output": outputs}


def profile_dict(inference_us: int = 2345, layers=LAYERS) -> dict[str, Any]:
    return {
        "execution_summary": {
            "estimated_inference_time": inference_us,
            "estimated_inference_peak_memory": 12_000_000,
            "first_load_time": 90_000,
            "warm_load_time": 4_000,
            "compile_time": 0,
            "inference_memory_peak_range": (1_048_576, 13_631_488),
            "all_inference_times": [inference_us] * 3,
        },
        "execution_detail": [
            {"name": n, "type": t, "compute_unit": u, "execution_time": 10} for n, t, u in layers
        ],
    }


class FakeHub:
    """Module-like: ``hub.Device``, ``hub.submit_*``. Knobs set the scenario."""

    Device = Device
    UserError = UserError

    def __init__(
        self,
        *,
        fail: str | None = None,
        fail_message: str = "Compilation failed: op DepthToSpace is not supported",
        network_error: bool = False,
        no_config: bool = False,
        profile: dict[str, Any] | None = None,
    ) -> None:
        self.fail = fail  # "compile" | "profile" | "inference" | None
        self.fail_message = fail_message
        self.network_error = network_error
        self.no_config = no_config
        self.profile = profile if profile is not None else profile_dict()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._next = 0

    def _check(self) -> None:
        if self.no_config:
            # What the real client raises on its first call without a client.ini.
            raise UserError("Failed to load client configuration file.\n~/.qai_hub/client.ini")
        if self.network_error:
            raise requests.ConnectionError(
                "HTTPSConnectionPool(host='workbench.aihub.qualcomm.com', port=443): "
                "Max retries exceeded"
            )

    def _id(self) -> str:
        self._next += 1
        return f"j{self._next:08d}"

    def get_devices(self, name: str = "", os: str = "", attributes=None) -> list[Device]:
        self._check()
        return [Device(name or "Samsung Galaxy S24 (Family)", "14", ["chipset:snapdragon-8gen3"])]

    def submit_compile_job(
        self,
        model,
        device,
        name=None,
        input_specs=None,
        options="",
        single_compile=True,
        calibration_data=None,
        retry=True,
        project=None,
    ) -> CompileJob:
        self._check()
        self.calls.append(("compile", {"model": model, "device": device, "options": options}))
        failed = self.fail_message if self.fail == "compile" else None
        return CompileJob(self._id(), model, device, name, options, fail_message=failed)

    def submit_profile_job(
        self, model, device, name=None, options="", retry=True, project=None
    ) -> InferenceJob:
        self._check()
        self.calls.append(("profile", {"model": model, "device": device, "options": options}))
        failed = self.fail_message if self.fail == "profile" else None
        return InferenceJob(
            self._id(), model, device, name, options, fail_message=failed, profile=self.profile
        )

    def submit_inference_job(
        self,
        model,
        device,
        inputs=None,
        name=None,
        options="",
        retry=True,
        profile=True,
        project=None,
    ) -> InferenceJob:
        self._check()
        self.calls.append(("inference", {"model": model, "device": device, "inputs": inputs}))
        failed = self.fail_message if self.fail == "inference" else None
        return InferenceJob(
            self._id(), model, device, name, options, fail_message=failed, inputs=inputs,
            profile=self.profile if profile else None,
        )  # fmt: skip
