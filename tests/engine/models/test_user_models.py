"""User model files through spandrel: .pth and .safetensors load, pickled code never runs,
and every broken file is one clear ModelError."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.errors import ModelError
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig
from engine.models.user_models import SpandrelNet, UserModelConfig, load_user_model

# spandrel's ESRGAN detector assumes the standard growth of 32 channels.
TINY = RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=32)


@pytest.fixture
def tiny_net() -> RRDBNet:
    torch.manual_seed(0)
    return RRDBNet(TINY).eval()


def _same_output(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    x = torch.rand(1, 3, 8, 6)
    with torch.no_grad():
        return torch.equal(a(x), b(x))


@pytest.mark.parametrize("suffix", [".pth", ".pt", ".ckpt", ".safetensors"])
def test_esrgan_state_dict_loads_with_its_weights(
    tiny_net: RRDBNet, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"tiny{suffix}"
    if suffix == ".safetensors":
        save_file(tiny_net.state_dict(), str(path))
    else:
        torch.save(tiny_net.state_dict(), path)
    descriptor = load_user_model(path)
    assert descriptor.architecture == "spandrel:ESRGAN"
    assert (descriptor.scale, descriptor.in_channels, descriptor.out_channels) == (4, 3, 3)
    assert descriptor.size_multiple == 1 and descriptor.trained and descriptor.onnx_exportable
    assert descriptor.weights_id() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert isinstance(descriptor.config, UserModelConfig) and descriptor.config.path == path
    first, second = descriptor.load(), descriptor.load()  # handed over, then rebuilt
    assert isinstance(first, SpandrelNet) and not first.training
    assert _same_output(first, tiny_net) and _same_output(second, tiny_net)


def test_basicsr_checkpoint_wrapper_is_unwrapped(tiny_net: RRDBNet, tmp_path: Path) -> None:
    path = tmp_path / "net_g_ema.pth"
    torch.save({"params_ema": tiny_net.state_dict(), "iter": 5}, path)
    assert _same_output(load_user_model(path).load(), tiny_net)


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (os.mkdir, (str(self.marker),))


@pytest.mark.parametrize(
    ("container", "reason"),
    [
        ("torch.save", "refused: it contains pickled Python code"),
        ("pickle protocol 2", "refused: it contains pickled Python code"),
        ("pickle protocol 5", "not a readable model file"),
    ],
)
def test_malicious_pickle_is_refused_and_never_executed(
    tiny_net: RRDBNet, tmp_path: Path, container: str, reason: str
) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    payload = {**tiny_net.state_dict(), "evil": _Exploit(marker)}
    if container == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=int(container[-1])))
    with pytest.raises(ModelError, match=reason):
        load_user_model(path)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.script(torch.nn.Conv2d(3, 3, 1)).save(str(path))
    with pytest.raises(ModelError, match="TorchScript archives carry code"):
        load_user_model(path)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.pth", b"", "file is empty or truncated"),
        ("garbage.pth", bytes(range(256)) * 4, "not a readable model file"),
        ("garbage.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}", "not a readable"),
        ("empty.safetensors", b"", "not a readable model file"),
    ],
)
def test_corrupt_files_are_one_clear_error(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelError, match=reason) as caught:
        load_user_model(path)
    assert "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_truncated_checkpoint_is_one_clear_error(tiny_net: RRDBNet, tmp_path: Path) -> None:
    path = tmp_path / "cut.pth"
    torch.save(tiny_net.state_dict(), path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ModelError, match="not a readable model file") as caught:
        load_user_model(path)
    assert "\n" not in str(caught.value)


def test_unknown_architecture_and_wrong_shapes(tmp_path: Path, tiny_net: RRDBNet) -> None:
    unknown = tmp_path / "mystery.safetensors"
    save_file({"foo.weight": torch.zeros(2, 2)}, str(unknown))
    with pytest.raises(ModelError, match="unsupported model architecture"):
        load_user_model(unknown)
    no_tensors = tmp_path / "empty_dict.pth"
    torch.save({"epoch": 3}, no_tensors)
    with pytest.raises(ModelError, match="no state dict of tensors"):
        load_user_model(no_tensors)


def test_missing_file_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        load_user_model(tmp_path / "absent.pth")
    onnx_file = tmp_path / "model.onnx"
    onnx_file.write_bytes(b"x")
    with pytest.raises(ModelError, match=r"unsupported model file type '\.onnx'"):
        load_user_model(onnx_file)


def test_file_changed_after_opening_is_detected(tiny_net: RRDBNet, tmp_path: Path) -> None:
    path = tmp_path / "tiny.pth"
    torch.save(tiny_net.state_dict(), path)
    descriptor = load_user_model(path)
    descriptor.load()
    torch.manual_seed(5)
    torch.save(RRDBNet(TINY).state_dict(), path)
    with pytest.raises(ModelError, match="changed since it was opened"):
        descriptor.load()


def test_nan_weights_are_refused_naming_the_tensor(tiny_net: RRDBNet, tmp_path: Path) -> None:
    state = {k: v.clone() for k, v in tiny_net.state_dict().items()}
    state["conv_last.bias"][1] = float("nan")
    path = tmp_path / "nan.safetensors"
    save_file(state, str(path))
    with pytest.raises(ModelError, match=r"nan\.safetensors: tensor 'conv_last\.bias' holds NaN"):
        load_user_model(path)
