"""Models a user brings as a file: ESRGAN-family and other common architectures via spandrel.

Safety: no pickled code ever runs. ``.pth``/``.pt``/``.ckpt`` go through
``torch.load(weights_only=True)`` (torch's restricted unpickler: tensors and plain
containers only); ``.safetensors`` holds no code at all; TorchScript archives, which carry
code, are refused. spandrel then only sees a state dict and picks the architecture from its
keys and shapes.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from engine.errors import ModelError
from engine.files import file_sha256
from engine.models.descriptor import ModelDescriptor

SUPPORTED_SUFFIXES = (".pth", ".pt", ".ckpt", ".safetensors")
# Architectures whose plain forward is known to export to ONNX; others run on torch.
_ONNX_EXPORTABLE = frozenset({"ESRGAN", "Compact", "SPAN"})
# Checkpoint wrappers (BasicSR, Lightning, EMA) that hold the real state dict under a key.
_WRAPPER_KEYS = ("params_ema", "params", "state_dict", "model", "net_g", "generator")


@dataclass(frozen=True, kw_only=True)
class UserModelConfig:
    """What spandrel detected: the architecture id and its size tags (e.g. "64nf", "23nb")."""

    path: Path
    architecture: str
    tags: tuple[str, ...]


class SpandrelNet(nn.Module):
    """A spandrel model called the way spandrel calls it (some architectures wrap forward)."""

    def __init__(self, model: nn.Module, call: Any) -> None:
        super().__init__()
        self.model = model
        self._call = call

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._call(self.model, x)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix.lower() == ".safetensors":
            state = load_file(str(path))
        else:
            with warnings.catch_warnings():
                # torch warns before refusing a TorchScript archive; the error below says it.
                warnings.simplefilter("ignore", UserWarning)
                state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ModelError(f"{path}: {_unpickling_reason(str(error))}") from None
    except RuntimeError as error:
        if "TorchScript" in str(error):
            raise ModelError(
                f"{path}: TorchScript archives carry code and are not loaded; "
                "save the model's state_dict instead"
            ) from None
        raise ModelError(f"{path}: not a readable model file ({_first_line(error)})") from None
    except (OSError, EOFError, SafetensorError, zipfile.BadZipFile, ValueError) as error:
        reason = _first_line(error) or "file is empty or truncated"
        raise ModelError(f"{path}: not a readable model file ({reason})") from None
    except Exception as error:  # untrusted bytes: any parser failure is a bad file, not a crash
        reason = f"{type(error).__name__}: {_first_line(error)}"
        raise ModelError(f"{path}: not a readable model file ({reason})") from None
    state = _unwrap(path, state)
    # Infinity may be meant (an attention mask stored as a buffer); NaN never is.
    check_finite(path, state, inf_allowed=True)
    return state


def check_finite(path: Path, state: dict[str, torch.Tensor], *, inf_allowed: bool = False) -> None:
    """ModelError naming the first float tensor that holds NaN (or, unless ``inf_allowed``,
    infinity): such weights make every output pixel NaN, written as an all-black image."""
    for name, tensor in state.items():
        if not tensor.is_floating_point() and not tensor.is_complex():
            continue
        if bool(torch.isnan(tensor).any()):
            bad = "NaN"
        elif not inf_allowed and not bool(torch.isfinite(tensor).all()):
            bad = "infinite"
        else:
            continue
        raise ModelError(
            f"{path}: tensor {name!r} holds {bad} values; the weights are damaged "
            "(a diverged training run, or a broken file)"
        )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    # torch appends paragraphs of advice; the first sentence names the problem.
    return lines[0].split(". ")[0].rstrip(".") if lines else ""


def _summary(error: BaseException) -> str:
    # load_state_dict lists every mismatch; the first one is enough for a one-line error.
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return " ".join(lines[:2])[:200]


def _unpickling_reason(message: str) -> str:
    # torch's restricted unpickler names the blocked global; anything else is a broken file.
    for line in message.splitlines():
        if "GLOBAL" in line:
            return f"refused: it contains pickled Python code, not just weights ({line.strip()})"
    return (
        "not a readable model file (corrupt pickle data, or pickle opcodes outside the safe subset)"
    )


def _unwrap(path: Path, state: object) -> dict[str, torch.Tensor]:
    for key in _WRAPPER_KEYS:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not any(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path}: no state dict of tensors found in the file")
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def _spandrel_load(path: Path, state: dict[str, torch.Tensor]) -> Any:
    from engine.models._torchvision_compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    import spandrel

    try:
        loaded = spandrel.ModelLoader().load_from_state_dict(
            spandrel.canonicalize_state_dict(state)
        )
    except spandrel.UnsupportedModelError:
        raise ModelError(f"{path}: unsupported model architecture") from None
    except Exception as error:  # detection code over untrusted shapes may fail any way
        raise ModelError(
            f"{path}: weights do not fit the detected architecture ({_summary(error)})"
        ) from None
    if not isinstance(loaded, spandrel.ImageModelDescriptor) or loaded.purpose == "FaceSR":
        raise ModelError(
            f"{path}: {loaded.architecture.name} is a {loaded.purpose} model; "
            "only super-resolution and restoration models are supported"
        )
    if loaded.size_requirements.square:
        raise ModelError(f"{path}: {loaded.architecture.name} needs square inputs; not supported")
    return loaded


def _as_module(loaded: Any) -> nn.Module:
    # spandrel keeps per-architecture call wrappers privately; plain forward is the default.
    call = getattr(loaded, "_call_fn", None) or (lambda model, x: model(x))
    return SpandrelNet(loaded.model, call).eval()


def load_user_model(path: Path | str) -> ModelDescriptor:
    """Describe a model file; the file is read and validated now, and again by ``load()``."""
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ModelError(
            f"{path}: unsupported model file type {path.suffix or '(none)'!r}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    loaded = _spandrel_load(path, _read_state_dict(path))
    sha256 = file_sha256(path)
    # The first load() hands over the model built for validation; later ones rebuild it.
    built = [loaded]

    def load() -> nn.Module:
        if built:
            return _as_module(built.pop())
        if file_sha256(path) != sha256:
            raise ModelError(f"{path}: the file changed since it was opened; open it again")
        return _as_module(_spandrel_load(path, _read_state_dict(path)))

    arch = loaded.architecture
    return ModelDescriptor(
        name=path.stem,
        title=f"{arch.name} x{loaded.scale} ({path.name})",
        architecture=f"spandrel:{arch.id}",
        scale=loaded.scale,
        in_channels=loaded.input_channels,
        out_channels=loaded.output_channels,
        size_multiple=loaded.size_requirements.multiple_of,
        config=UserModelConfig(path=path, architecture=arch.id, tags=tuple(loaded.tags)),
        trained=True,
        load=load,
        weights_id=lambda: sha256,
        description=f"user model loaded through spandrel ({arch.name}, {loaded.purpose})",
        onnx_exportable=arch.id in _ONNX_EXPORTABLE,
    )
