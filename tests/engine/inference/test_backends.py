from __future__ import annotations

import dataclasses
import errno
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper
from skimage import data as skdata
from support import NearestX4, make_descriptor
from torch import nn

from engine.errors import ModelError, StorageError
from engine.events import Cancelled, CancelToken
from engine.inference import backends
from engine.inference.backends import (
    OnnxBackend,
    TorchBackend,
    is_out_of_memory,
    make_backend,
    onnx_path,
)
from engine.models.bicubic import BicubicUpsampler
from engine.models.descriptor import ModelDescriptor
from engine.models.mfa import MFAConfig, MFAGenerator
from engine.models.registry import get_model

ONE_LEVEL = 1.0 / 255.0


@pytest.fixture(autouse=True)
def restore_torch_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def photo(height: int, width: int, *, name: str = "astronaut", top: int = 90, left: int = 170):
    pixels = getattr(skdata, name)()[top : top + height, left : left + width]
    return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def student(name: str, *, downsample: str = "conv") -> ModelDescriptor:
    config = MFAConfig(
        num_blocks=2, width=16, inner_width=8, half_res=(True, False), downsample=downsample
    )
    described = make_descriptor(MFAGenerator(config, seed=3), name=name)
    return dataclasses.replace(described, size_multiple=config.size_multiple, architecture="mfa")


def nearest(x: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(x, 4, axis=2), 4, axis=3).astype(np.float32)


def both(descriptor: ModelDescriptor, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    expected = TorchBackend(descriptor, threads=1).run(x)
    got = OnnxBackend(descriptor, threads=1).run(x)
    assert got.dtype == np.float32 and got.shape == expected.shape
    return got, expected


@pytest.mark.parametrize("downsample", ["conv", "avgpool"])
def test_onnx_matches_torch_for_the_student_at_sizes_it_was_not_exported_at(downsample):
    descriptor = student(f"student-{downsample}", downsample=downsample)
    for height, width in [(24, 40), (38, 18)]:
        got, expected = both(descriptor, photo(height, width, name="coffee"))
        assert got.shape == (1, 3, 4 * height, 4 * width)
        assert np.abs(got - expected).max() <= ONE_LEVEL


def test_onnx_matches_torch_for_bicubic():
    descriptor = make_descriptor(BicubicUpsampler(4), name="bicubic-test")
    got, expected = both(descriptor, photo(21, 34, name="chelsea"))
    assert got.shape == (1, 3, 84, 136)
    assert np.abs(got - expected).max() <= ONE_LEVEL


@pytest.mark.slow
def test_onnx_matches_torch_for_the_teacher_on_a_tiny_photo():
    got, expected = both(get_model("realesrgan-x4plus"), photo(12, 20))
    assert got.shape == (1, 3, 48, 80)
    assert np.abs(got - expected).max() <= ONE_LEVEL


def test_export_is_cached_per_model_and_written_atomically(monkeypatch):
    descriptor = student("cached-student")
    path = onnx_path(descriptor)
    assert path.name == f"cached-student-{descriptor.weights_id()[:16]}.onnx"
    assert not path.exists()
    OnnxBackend(descriptor, threads=1)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no temps
    graph_input = onnx.load(str(path)).graph.input[0]
    dims = [d.dim_param or d.dim_value for d in graph_input.type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]

    def no_second_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(backends, "_export", no_second_export)
    assert OnnxBackend(descriptor, threads=1).path == path


def test_a_damaged_cached_export_is_rebuilt():
    descriptor = make_descriptor(NearestX4(), name="damaged")
    path = onnx_path(descriptor)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not an onnx file")
    x = photo(8, 8)
    np.testing.assert_array_equal(OnnxBackend(descriptor, threads=1).run(x), nearest(x))
    onnx.checker.check_model(str(path))


def test_a_folder_where_the_cached_export_goes_is_moved_aside_and_rebuilt():
    """A damaged cache entry (issue 19): os.replace cannot put a file over a folder."""
    descriptor = make_descriptor(NearestX4(), name="folder-in-the-way")
    path = onnx_path(descriptor)
    path.mkdir(parents=True)
    (path / "kept.txt").write_text("not known to be ours: moved, not deleted")
    x = photo(8, 8)
    np.testing.assert_array_equal(OnnxBackend(descriptor, threads=1).run(x), nearest(x))
    onnx.checker.check_model(str(path))
    (aside,) = [p for p in path.parent.iterdir() if p.name.startswith(f"{path.name}.damaged-")]
    assert (aside / "kept.txt").read_text().startswith("not known")


def test_a_file_where_the_onnx_folder_goes_is_moved_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    descriptor = make_descriptor(NearestX4(), name="file-in-the-way")
    folder = onnx_path(descriptor).parent
    folder.write_bytes(b"a file named onnx")
    assert backends.ensure_onnx(descriptor).is_file()
    (aside,) = [p for p in folder.parent.iterdir() if p.name.startswith("onnx.damaged-")]
    assert aside.read_bytes() == b"a file named onnx"


def _fail_with(code: int):
    def fail(*args: object, **kwargs: object):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize(
    ("where", "code", "reason"),
    [
        ("mkstemp", errno.EROFS, "read-only file system"),  # the folder is on a read-only mount
        ("replace", errno.ENOSPC, "no space left on device"),
    ],
)
def test_a_cache_that_cannot_be_written_is_one_storage_error(
    tmp_path, monkeypatch, where, code, reason
):
    """Faked with monkeypatch: as root, permission bits would not stop the write."""
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    descriptor = make_descriptor(NearestX4(), name=f"unwritable-{where}")
    path = onnx_path(descriptor)
    if where == "mkstemp":
        monkeypatch.setattr(backends.tempfile, "mkstemp", _fail_with(code))
    else:
        monkeypatch.setattr(backends.os, "replace", _fail_with(code))
    with pytest.raises(StorageError) as caught:
        OnnxBackend(descriptor, threads=1)
    assert str(caught.value) == (
        f"{path.parent}: cannot write the ONNX export {path.name} in the cache ({reason}); "
        "MFAGAN_CACHE_DIR moves the cache, --backend torch needs no export"
    )
    assert list(path.parent.iterdir()) == []  # no export, no temporary


def test_each_weights_id_gets_its_own_export():
    first = student("same-name")
    second = dataclasses.replace(first, weights_id=lambda: "f" * 64)
    assert onnx_path(first) != onnx_path(second)


def test_odd_model_names_make_safe_file_names():
    descriptor = make_descriptor(NearestX4(), name="../my model: v2")
    path = onnx_path(descriptor)
    assert path.parent.name == "onnx"
    assert path.name == f"my_model_v2-{descriptor.weights_id()[:16]}.onnx"


class FrozenShape(nn.Module):
    """Tracing turns int(shape) into a constant: the export only works at the traced size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = (int(x.shape[2]) * 4, int(x.shape[3]) * 4)
        return nn.functional.interpolate(x, size=size, mode="nearest")


def test_an_export_that_froze_a_shape_is_refused_and_not_cached():
    descriptor = make_descriptor(FrozenShape(), name="frozen-shape")
    with pytest.raises(ModelError, match=r"differs from PyTorch.*torch backend"):
        OnnxBackend(descriptor, threads=1)
    assert not onnx_path(descriptor).exists()
    assert [p for p in onnx_path(descriptor).parent.iterdir() if "frozen" in p.name] == []


def test_a_model_marked_not_exportable_is_refused_by_the_onnx_backend_only():
    descriptor = dataclasses.replace(
        make_descriptor(NearestX4(), name="no-onnx"), onnx_exportable=False
    )
    with pytest.raises(ModelError, match="cannot be exported to ONNX"):
        make_backend(descriptor, "onnx", threads=1)
    assert make_backend(descriptor, "torch", threads=1).name == "torch"


def test_make_backend_kinds_and_threads():
    descriptor = make_descriptor(NearestX4(), name="kinds")
    onnx_backend = make_backend(descriptor, "onnx", threads=1)
    torch_backend = make_backend(descriptor, "torch", threads=1)
    assert (onnx_backend.name, torch_backend.name) == ("onnx", "torch")
    assert torch.get_num_threads() == 1
    assert make_backend(descriptor, "torch").threads == backends.available_threads()
    with pytest.raises(ValueError, match="unknown backend"):
        make_backend(descriptor, "tflite")  # type: ignore[arg-type]


def test_backends_take_any_float_array_and_return_exact_nearest():
    descriptor = make_descriptor(NearestX4(), name="nearest-exact")
    x = photo(10, 12)[:, :, ::-1, :].astype(np.float64)  # reversed view, float64
    expected = nearest(x)
    for kind in ("onnx", "torch"):
        np.testing.assert_array_equal(make_backend(descriptor, kind, threads=1).run(x), expected)


def _huge_onnx_allocation() -> Exception:
    fill = helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0])
    node = helper.make_node("ConstantOfShape", ["shape"], ["out"], value=fill)
    graph = helper.make_graph(
        [node],
        "huge",
        [helper.make_tensor_value_info("shape", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    try:
        session.run(None, {"shape": np.array([2**50], dtype=np.int64)})
    except Exception as error:
        return error
    raise AssertionError("onnxruntime allocated 4 PiB")


def test_real_allocation_failures_are_recognised_as_out_of_memory():
    with pytest.raises(RuntimeError) as torch_error:
        torch.empty(2**50)
    assert is_out_of_memory(torch_error.value)
    assert is_out_of_memory(_huge_onnx_allocation())
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(RuntimeError("Given groups=1, weight of size [8, 3, 3, 3]"))
    assert not is_out_of_memory(ValueError("bad input"))


class SlowStack(nn.Module):
    """Convolutions deep and wide enough that one 256 px call takes seconds on one core."""

    def __init__(self, *, depth: int = 32, width: int = 64) -> None:
        super().__init__()
        torch.manual_seed(0)
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1)]
        for _ in range(depth):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(width, 3, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Trip(nn.Module):
    """Calls ``action`` the first time it runs: a cancel arriving in the middle of a forward."""

    def __init__(self, action: Callable[[], None]) -> None:
        super().__init__()
        self.action, self.tripped = action, False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.tripped:
            self.tripped = True
            self.action()
        return x


class Counter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x


@pytest.fixture(scope="module")
def slow_stack() -> ModelDescriptor:
    return make_descriptor(SlowStack(), name="slow-stack", scale=1)


@pytest.mark.parametrize("by_signal", [False, True], ids=["gui-thread", "ctrl-c-signal"])
@pytest.mark.parametrize("kind", ["onnx", "torch"])
def test_a_cancel_stops_a_running_call_within_a_second(slow_stack, kind, by_signal):
    backend = make_backend(slow_stack, kind, threads=1)
    x = photo(256, 256)
    cancel, cancelled_at = CancelToken(), []

    def fire() -> None:
        cancelled_at.append(time.perf_counter())
        if by_signal:
            # The CLI's way: Ctrl-C's handler sets the token, and Python runs signal
            # handlers only in the main thread, the one blocked in the call.
            os.kill(os.getpid(), signal.SIGUSR1)
        else:
            cancel.cancel()  # the GUI's way: another thread sets the token

    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGUSR1, lambda *_: cancel.cancel())
    threads_before = threading.active_count()
    timer = threading.Timer(0.2, fire)
    started = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(Cancelled):
            backend.run(x, cancel=cancel)
        stopped = time.perf_counter()
    finally:
        timer.join()
        signal.signal(signal.SIGUSR1, previous)
    assert stopped - cancelled_at[0] < 1.0
    assert stopped - started < 2.0
    assert threading.active_count() == threads_before  # no worker or watcher left running


@pytest.mark.parametrize("kind", ["onnx", "torch"])
def test_a_live_token_changes_nothing_and_a_set_one_stops_before_the_call(slow_stack, kind):
    backend = make_backend(slow_stack, kind, threads=1)
    x = photo(12, 16)
    threads_before = threading.active_count()
    np.testing.assert_array_equal(backend.run(x, cancel=CancelToken()), backend.run(x))
    assert threading.active_count() == threads_before
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        backend.run(x, cancel=cancel)


def test_torch_stops_before_the_next_layer_and_removes_its_hooks():
    cancel, after = CancelToken(), Counter()
    model = nn.Sequential(nn.Conv2d(3, 3, 1), Trip(cancel.cancel), after, NearestX4())
    backend = TorchBackend(make_descriptor(model, name="trip"), threads=1)
    with pytest.raises(Cancelled):
        backend.run(photo(8, 8), cancel=cancel)
    assert after.calls == 0
    assert all(not module._forward_pre_hooks for module in model.modules())
    assert backend.run(photo(8, 8)).shape == (1, 3, 32, 32)


def test_a_token_only_stops_its_own_thread_when_threads_share_a_module():
    cancel, results = CancelToken(), []
    backend: TorchBackend

    def other_run_meanwhile() -> None:
        # Runs while the first call is paused inside this layer with its token already set
        # and its hooks on the shared module.
        cancel.cancel()
        other = threading.Thread(target=lambda: results.append(backend.run(photo(8, 8))))
        other.start()
        other.join()

    model = nn.Sequential(nn.Conv2d(3, 3, 1), Trip(other_run_meanwhile), NearestX4())
    backend = TorchBackend(make_descriptor(model, name="shared"), threads=1)
    with pytest.raises(Cancelled):
        backend.run(photo(8, 8), cancel=cancel)
    assert [r.shape for r in results] == [(1, 3, 32, 32)]
