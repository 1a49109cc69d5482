"""Every built-in model, written out in one place; files on disk load as user models.

Entries are built on request (cheap: no weights are read until ``load()``), so listing the
models never converts the teacher or touches the network. The student ``mfagan`` is marked
untrained until ``resources/models/mfagan-x4.safetensors`` ships; that file's safetensors
metadata may name its architecture under ``"config"`` (``MFAConfig.encode()``), otherwise
``DEFAULT_CONFIG`` is assumed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from torch import nn

from engine.errors import ModelError, UsageError
from engine.files import file_sha256
from engine.models import teacher
from engine.models.bicubic import BicubicUpsampler
from engine.models.descriptor import ModelDescriptor
from engine.models.mfa import DEFAULT_CONFIG, MFAConfig, MFAGenerator
from engine.models.user_models import SUPPORTED_SUFFIXES, check_finite, load_user_model
from engine.paths import RESOURCES, data_dir

TEACHER_NAME = "realesrgan-x4plus"
STUDENT_NAME = "mfagan"
STUDENT_WEIGHTS = RESOURCES / "models" / "mfagan-x4.safetensors"
# Shipped phone models: a searched supernet subnet fine-tuned for one phone and budget
# (``mfagan search`` + ``mfagan publish --stem``); listed only once its weights ship.
PHONE_MODELS = {"mfagan-sd865": "Phone (Snapdragon 865 GPU, 15 ms)"}
PHONE_MODELS_DIR = RESOURCES / "models"
# Seed of the random-init student, so an untrained student is still reproducible.
STUDENT_SEED = 0


def _stable_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _teacher(name: str, title: str, source: teacher.TeacherSource, about: str) -> ModelDescriptor:
    return ModelDescriptor(
        name=name,
        title=title,
        architecture="rrdbnet",
        scale=source.config.scale,
        in_channels=source.config.in_channels,
        out_channels=source.config.out_channels,
        size_multiple=source.config.size_multiple,
        config=source.config,
        trained=True,
        load=lambda: teacher.load_teacher(source),
        weights_id=lambda: teacher.teacher_weights_id(source),
        description=about,
    )


def _safetensors_metadata(path: Path) -> dict[str, str]:
    try:
        with safe_open(str(path), framework="pt") as file:
            return dict(file.metadata() or {})
    except (OSError, SafetensorError) as error:
        raise ModelError(f"{path}: unreadable weights file ({error})") from None


def _student_config(path: Path) -> MFAConfig:
    encoded = _safetensors_metadata(path).get("config")
    if encoded is None:
        return DEFAULT_CONFIG
    try:
        return MFAConfig.decode(encoded)
    except UsageError as error:
        raise ModelError(f"{path}: {error}") from None


def _load_student(config: MFAConfig, path: Path | None) -> nn.Module:
    net = MFAGenerator(config, seed=STUDENT_SEED)
    if path is not None:
        try:
            state = load_file(str(path))
            net.load_state_dict(state, strict=True)
        except (OSError, SafetensorError, RuntimeError) as error:
            reason = str(error).strip().splitlines()[0]
            raise ModelError(f"{path}: student weights do not load ({reason})") from None
        check_finite(path, state)  # NaN weights upscale to an all-black image
    return net.eval()


def mfa_descriptor(
    name: str, path: Path | None, *, title: str, description: str
) -> ModelDescriptor:
    """A student MFA generator; ``path`` None means random weights (cost measurements only)."""
    config = DEFAULT_CONFIG if path is None else _student_config(path)
    random_id = _stable_id(f"mfa-random-init:{config.encode()}:seed={STUDENT_SEED}")

    def weights_id() -> str:
        return random_id if path is None else file_sha256(path)

    return ModelDescriptor(
        name=name,
        title=title,
        architecture="mfa",
        scale=config.scale,
        in_channels=3,
        out_channels=3,
        size_multiple=config.size_multiple,
        config=config,
        trained=path is not None,
        load=lambda: _load_student(config, path),
        weights_id=weights_id,
        description=description,
    )


# Seconds for a 512x512 photo to 2048x2048 on the 2-core CPU of `make bench` (docs/BENCH.md,
# 2026-12-07; the auto runtime: OpenVINO bf16 on that Xeon with AMX, fp32 for bicubic): a
# model's speed in its description. Students are timed by architecture, which the weights do
# not change. On an AVX2 CPU without bf16 the same bench gave 133.54 / 1.43 / 0.30 s.
MEASURED_SECONDS = {
    "realesrgan-x4plus": 15.96,
    "mfa b6-c32-g32-h111111-conv-x4": 0.46,
    "bicubic": 0.43,
}
MEASURED_ON = "a 512×512 photo on a 2-core CPU"


def _speed(key: str) -> str:
    seconds = MEASURED_SECONDS.get(key)
    if seconds is None:
        return ""
    shown = f"{seconds:.2g}" if seconds < 10 else f"{seconds:.0f}"
    return f"{shown} s for {MEASURED_ON}"


def _student() -> ModelDescriptor:
    path = STUDENT_WEIGHTS if STUDENT_WEIGHTS.is_file() else None
    config = DEFAULT_CONFIG if path is None else _student_config(path)
    if path is None:
        about = "MFAGAN student, not trained yet (random weights: for cost measurements only)"
        title = "Fast (MFAGAN, untrained)"
    else:
        speed = _speed(f"mfa {config.encode()}")
        about = "Fast, phone-sized, learnt from Best quality" + (f": {speed}" if speed else "")
        about += _measured(path)
        title = "Fast (MFAGAN)"
    return mfa_descriptor(STUDENT_NAME, path, title=title, description=about)


def _phone_models() -> list[ModelDescriptor]:
    found = []
    for name, title in PHONE_MODELS.items():
        path = PHONE_MODELS_DIR / f"{name}.safetensors"
        if path.is_file():
            about = "Searched for the phone's budget, distilled from Best quality" + _measured(path)
            found.append(mfa_descriptor(name, path, title=title, description=about))
    return found


def _measured(weights: Path) -> str:
    """What the shipped card says the student scored (its first eval set), or nothing."""
    try:
        card = json.loads(weights.with_suffix(".json").read_text(encoding="utf-8"))
        name, scores = next(iter(card["evaluation"].items()))
        gain = scores["goals"]["fidelity_gain_db"]
        psnr = scores["student"]["psnr_gt"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StopIteration):
        return ""
    return f"; {name}: {psnr:.2f} dB PSNR-Y, {gain:+.2f} dB closer to the teacher than bicubic"


def user_models_dir() -> Path:
    """Where ``mfagan distill`` registers the students it trains (kept across upgrades)."""
    return data_dir() / "models"


def _is_mfa_file(path: Path) -> bool:
    return path.suffix.lower() == ".safetensors" and (
        _safetensors_metadata(path).get("architecture") == "mfa"
    )


def model_card(weights: Path) -> dict[str, Any]:
    """The model card beside a weights file (``<stem>.json``); {} when there is none, or it
    is unreadable or not a JSON object: a card only ever adds to what the weights say."""
    try:
        card = json.loads(weights.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def _user_mfa(path: Path) -> ModelDescriptor:
    card = model_card(path)
    name = str(card.get("name") or path.stem)
    return mfa_descriptor(
        name,
        path,
        title=f"{name} (yours)",
        description=str(card.get("description") or f"MFAGAN student trained by you ({path})"),
    )


def _user_entries() -> list[ModelDescriptor]:
    """Students registered by ``mfagan distill``; a broken file is skipped, not fatal."""
    folder = user_models_dir()
    if not folder.is_dir():
        return []
    found: dict[str, ModelDescriptor] = {}
    for path in sorted(folder.glob("*.safetensors")):
        if path.stem.endswith("-d"):
            continue  # discriminators kept for further fine-tuning, not upscalers
        try:
            if _is_mfa_file(path):
                descriptor = _user_mfa(path)
                # A copied file keeps its card's name: the first one keeps the name.
                found.setdefault(descriptor.name, descriptor)
        except ModelError:
            continue
    return list(found.values())


def _bicubic() -> ModelDescriptor:
    return ModelDescriptor(
        name="bicubic",
        title="Plain enlarge (bicubic, no AI)",
        architecture="bicubic",
        scale=4,
        in_channels=3,
        out_channels=3,
        size_multiple=1,
        config=None,
        trained=True,
        load=lambda: BicubicUpsampler(4).eval(),
        weights_id=lambda: _stable_id("bicubic:x4"),
        description=f"No AI, soft: {_speed('bicubic')}; the baseline of every comparison",
    )


_ENTRIES: tuple[Callable[[], ModelDescriptor], ...] = (
    lambda: _teacher(
        TEACHER_NAME,
        "Best quality (Real-ESRGAN)",
        teacher.X4PLUS,
        f"Sharpest detail, slowest: {_speed(TEACHER_NAME)}; the teacher of Fast",
    ),
    lambda: _teacher(
        "realesrgan-x4plus-anime",
        "Drawings and anime (Real-ESRGAN)",
        teacher.X4PLUS_ANIME,
        # 93.5 G vs 293.7 G multiply-adds at 128x128 (`mfagan profile --size 128`).
        "Clean lines and flat colour for drawings and anime; a third of Best quality's work",
    ),
    _student,
    _bicubic,
)


def build_registry(descriptors: Iterable[ModelDescriptor]) -> dict[str, ModelDescriptor]:
    """Index descriptors by name; a duplicate name is a programming error and fails loudly."""
    registry: dict[str, ModelDescriptor] = {}
    for descriptor in descriptors:
        if descriptor.name in registry:
            raise ValueError(f"duplicate model id {descriptor.name!r} in the registry")
        registry[descriptor.name] = descriptor
    return registry


def _builtin() -> list[ModelDescriptor]:
    return [entry() for entry in _ENTRIES] + _phone_models()


def _registry() -> dict[str, ModelDescriptor]:
    built_in = build_registry(_builtin())
    users = [d for d in _user_entries() if d.name not in built_in]
    return built_in | build_registry(users)


def builtin_model_names() -> list[str]:
    """Names the user's own models may not take."""
    return [entry().name for entry in _ENTRIES] + list(PHONE_MODELS)


def list_models() -> list[ModelDescriptor]:
    """The built-in models in registry order, then the user's trained students."""
    return list(_registry().values())


def default_model_name() -> str:
    """The trained student once it ships; until then the teacher."""
    return STUDENT_NAME if _student().trained else TEACHER_NAME


def _looks_like_path(text: str) -> bool:
    path = Path(text)
    return path.suffix.lower() in SUPPORTED_SUFFIXES or "/" in text or "\\" in text


def get_model(name_or_path: str) -> ModelDescriptor:
    """A built-in model by name, or a user model file by path; ModelError otherwise."""
    registry = _registry()
    if name_or_path in registry:
        return registry[name_or_path]
    if _looks_like_path(name_or_path) or Path(name_or_path).is_file():
        path = Path(name_or_path)
        if path.is_file() and _is_mfa_file(path):
            return _user_mfa(path)
        return load_user_model(path)
    raise ModelError(
        f"unknown model {name_or_path!r}; known models: {', '.join(registry)} "
        f"(or a path to a {'/'.join(SUPPORTED_SUFFIXES)} file)"
    )
