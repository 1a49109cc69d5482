"""Trained weights as safetensors, a model card, and registration as a user model.

Student file: the generator's state dict, safetensors metadata ``{"architecture": "mfa",
"config": MFAConfig.encode(), "scale": "4"}`` (what ``engine.models.registry`` reads for
``mfagan-x4.safetensors``). Discriminator file (``<stem>-d.safetensors``): ``teacher_d.*``
and ``student_d.*`` keys, metadata with both widths; this is what GAN fine-tuning on a user's
photos starts from. Model card (``<stem>.json``): config, training command, data, steps,
validation numbers, params and MACs, all filled in by the code, never by hand.
User models live in ``data_dir()/models/<name>.safetensors`` + ``<name>.json``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from engine.distill.discriminator import PatchDiscriminator
from engine.distill.report import atomic_write_bytes, write_json
from engine.errors import UsageError
from engine.files import file_sha256
from engine.models.mfa import MFAConfig, MFAGenerator

ARCHITECTURE = "mfa"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
PROFILE_SIDE = 128


def save_student(path: Path, generator: MFAGenerator, **metadata: str) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    meta = {"architecture": ARCHITECTURE, "config": generator.config.encode(), "scale": "4"}
    atomic_write_bytes(path, save(state, metadata=meta | metadata))


def save_discriminators(
    path: Path, teacher_d: PatchDiscriminator, student_d: PatchDiscriminator
) -> None:
    state = {f"teacher_d.{k}": v for k, v in teacher_d.state_dict().items()}
    state |= {f"student_d.{k}": v for k, v in student_d.state_dict().items()}
    state = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    meta = {"teacher_d_ndf": str(teacher_d.ndf), "student_d_ndf": str(student_d.ndf)}
    atomic_write_bytes(path, save(state, metadata=meta))


def discriminators_path(student_path: Path) -> Path:
    return student_path.with_name(f"{student_path.stem}-d.safetensors")


def student_config_of(path: Path) -> MFAConfig:
    """The MFA config recorded in a student file's metadata."""
    try:
        with safe_open(str(path), framework="pt") as file:
            encoded = (file.metadata() or {}).get("config")
    except (OSError, SafetensorError) as error:
        raise UsageError(f"{path}: not a readable student weights file ({error})") from None
    if encoded is None:
        raise UsageError(f"{path}: no MFA config in its metadata; not a student file")
    return MFAConfig.decode(encoded)


def load_student(path: Path) -> MFAGenerator:
    generator = MFAGenerator(student_config_of(path))
    generator.load_state_dict(load_file(str(path)), strict=True)
    return generator


def discriminator_widths(path: Path) -> dict[str, int]:
    """``teacher_d_ndf`` / ``student_d_ndf`` recorded in a ``-d.safetensors`` file ({} if none)."""
    if not path.is_file():
        return {}
    try:
        with safe_open(str(path), framework="pt") as file:
            meta = file.metadata() or {}
    except (OSError, SafetensorError) as error:
        raise UsageError(f"{path}: not a readable discriminator file ({error})") from None
    return {key: int(meta[key]) for key in ("teacher_d_ndf", "student_d_ndf") if key in meta}


def load_discriminators(
    path: Path, teacher_d: PatchDiscriminator, student_d: PatchDiscriminator
) -> None:
    """Fill both Ds from a ``-d.safetensors`` file; UsageError if the widths differ."""
    state = load_file(str(path))
    for prefix, module in (("teacher_d.", teacher_d), ("student_d.", student_d)):
        part = {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
        try:
            module.load_state_dict(part, strict=True)
        except RuntimeError:
            raise UsageError(
                f"{path}: {prefix[:-1]} weights do not fit ndf={module.ndf}; "
                "set teacher_d_ndf / student_d_ndf to the widths it was trained with"
            ) from None


def cost(generator: MFAGenerator) -> dict[str, Any]:
    from engine.models.profiling import profile_model

    report = profile_model(generator, height=PROFILE_SIDE, width=PROFILE_SIDE)
    return {"lr_size": [PROFILE_SIDE, PROFILE_SIDE]} | report.as_dict()


def check_model_name(name: str) -> str:
    from engine.models.registry import builtin_model_names

    if not _NAME.fullmatch(name):
        raise UsageError(
            f"model name {name!r}: use 1-64 lower-case letters, digits, '.', '_' or '-'"
        )
    # A user's own earlier model of that name is replaced: retraining it is the point.
    if name in builtin_model_names():
        raise UsageError(f"model name {name!r} is a built-in model; choose another")
    return name


def register_user_model(name: str, student: Path, card: dict[str, Any]) -> Path:
    """Copy the student (and its Ds) to ``data_dir()/models/`` with its card; returns the path."""
    from engine.models.registry import user_models_dir

    folder = user_models_dir()
    target = folder / f"{check_model_name(name)}.safetensors"
    atomic_write_bytes(target, student.read_bytes())
    source_d = discriminators_path(student)
    if source_d.is_file():
        atomic_write_bytes(discriminators_path(target), source_d.read_bytes())
    write_json(target.with_suffix(".json"), card | {"name": name, "weights": target.name})
    return target


LINEAGE_KEYS = ("name", "config", "training", "validation", "init", "nas")


def lineage(init: Path) -> dict[str, Any]:
    """What a fine-tuned student started from, for its model card: the init file's digest and,
    when that file's card lies beside it, the card's training and validation (with the card's
    own ``init``), so a card accounts for every run that went into its weights. A bare
    student file (no card, or not ours) still gets its digest."""
    from engine.models.registry import model_card

    card = model_card(init)
    entry: dict[str, Any] = {"weights": init.name, "weights_sha256": file_sha256(init)}
    return entry | {key: card[key] for key in LINEAGE_KEYS if key in card}


def shipped_student() -> Path:
    from engine.models.registry import STUDENT_WEIGHTS

    if not STUDENT_WEIGHTS.is_file():
        raise UsageError(
            "--init default: the trained default student is not shipped yet "
            f"({STUDENT_WEIGHTS} is missing); train from scratch without --init"
        )
    return STUDENT_WEIGHTS


def init_weights(init: str) -> Path:
    """The student file ``--init`` names: ``default`` or a path."""
    path = shipped_student() if init == "default" else Path(init)
    if not path.is_file():
        raise UsageError(f"--init {init}: no such student weights file")
    return path
