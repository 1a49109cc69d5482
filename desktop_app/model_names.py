"""Model names for people that tell the models shipped with the app from the user's own.

The registry's titles alone do not: "Phone (Snapdragon 865 GPU, 15 ms)" (shipped) sat next
to "phone-snapdragon-865 (yours)" (made by the phone wizard). Shipped models are the
registry's built-in names; a model of the user's whose card records a search (``nas``) was
made for a phone.
"""

from __future__ import annotations

from engine.events import Notice, TrainingSetup
from engine.models.descriptor import ModelDescriptor
from engine.models.registry import (
    PHONE_MODELS,
    builtin_model_names,
    model_card,
    user_models_dir,
)

YOURS_SUFFIX = " (yours)"


def is_shipped(descriptor: ModelDescriptor) -> bool:
    return descriptor.name in builtin_model_names()


def is_phone_model(descriptor: ModelDescriptor) -> bool:
    """Shipped for a phone, or searched and fine-tuned for one (the phone wizard's)."""
    if descriptor.name in PHONE_MODELS:
        return True
    card = model_card(user_models_dir() / f"{descriptor.name}.safetensors")
    return descriptor.architecture == "mfa" and "nas" in card


def shown_title(descriptor: ModelDescriptor) -> str:
    """The title shown in lists: "Phone, shipped (Snapdragon 865 GPU, 15 ms)", "Your phone
    model: phone-sd865", "Your model: faces"; other shipped models keep their title."""
    title = descriptor.title
    if is_shipped(descriptor):
        if descriptor.name in PHONE_MODELS and title.startswith("Phone ("):
            return "Phone, shipped (" + title.removeprefix("Phone (")
        return title
    if title.endswith(YOURS_SUFFIX):  # a registered student: its name says which
        kind = "Your phone model" if is_phone_model(descriptor) else "Your model"
        return f"{kind}: {descriptor.name}"
    return f"Your model: {title}"  # a file opened from disk: its title names the file


# The registry's descriptions quote test scores ("Set14: 25.85 dB PSNR-Y, +2.18 dB closer
# to the teacher than bicubic"): true, and kept, but in the details line and the tooltip.
CLOSER_PLAIN = "sharper and closer to Best quality than a plain enlargement"
TEACHER_OF_FAST = "the teacher of Fast"
# A model's speed in its description is its time in `make bench` (registry.MEASURED_SECONDS).
# The bench times Best quality, Fast and plain enlarge only: Drawings and anime has no time,
# and its description compares its work (multiply-adds) with Best quality's instead. Without
# a word on it, the one description with no speed read as an oversight.
WORK_OF_BEST = "of Best quality's work"
NOT_TIMED = " (not timed yet)"
NOT_TIMED_DETAILS = (
    "its work is counted (multiply-adds), not timed: the bench that times Best quality, Fast "
    "and plain enlarge (docs/BENCH.md) does not run this model"
)


def _is_score(part: str) -> bool:
    return "PSNR" in part or " dB" in part


def plain_description(description: str) -> tuple[str, str]:
    """(what a person reads first, the numbers behind it: "" when there are none)."""
    plain, details = [], []
    for part in description.split("; "):
        if _is_score(part):
            details.append(part.replace("the teacher", "Best quality (the teacher)"))
            if "closer to the teacher than bicubic" in part:
                plain.append(CLOSER_PLAIN)
        elif part == TEACHER_OF_FAST:
            plain.append("Fast learnt from it")
            details.append("the teacher Fast was distilled from")
        elif part.endswith(WORK_OF_BEST):
            plain.append(part + NOT_TIMED)
            details.append(NOT_TIMED_DETAILS)
        else:
            plain.append(part.replace("the teacher", "Best quality"))
    shown = "; ".join(plain)
    details_line = "; ".join(details)
    if details_line and "Set14" in details_line:
        details_line += " (Set14: a standard test set of photos; PSNR-Y: higher is closer)"
    return shown, details_line


# Loss names of a training run's history, for the legend of the loss plot. The "realism
# checks" are the run's discriminators: one learns to tell photos from your model's results
# (l_d_*), the other from Best quality's (l_td_*, trained alone first).
LOSS_WORDS = {  # short: the legend takes its width from the plot
    "l_g_total": "model: total",
    "l_g_gt": "vs original",
    "l_g_distill": "vs Best quality",
    "l_g_feat": "features",
    "l_g_fm": "feature match",
    "l_g_gan": "realism",
    "l_d_total": "realism check: total",
    "l_d_real": "realism check: photos",
    "l_d_fake": "realism check: yours",
    "l_d_feat": "realism check: features",
    "l_d_distill": "realism check: vs Best",
    "l_td_real": "Best quality check: photos",
    "l_td_fake": "Best quality check: results",
    "l_total": "total",
}
# What each legend entry means, for the plot's tooltip (with the raw name the run's files use).
LOSS_MEANINGS = {
    "l_g_total": "your model's losses together",
    "l_g_gt": "how far your model's results are from the original photos",
    "l_g_distill": "how far your model's results are from Best quality's",
    "l_g_feat": "how far your model's inner features are from Best quality's",
    "l_g_fm": "how far your model's results look from photos to the realism check",
    "l_g_gan": "how unreal your model's results look to the realism check",
    "l_d_total": "realism check (your model): its losses together",
    "l_d_real": "realism check (your model): how well it knows photos",
    "l_d_fake": "realism check (your model): how well it spots your model's results",
    "l_d_feat": "realism check (your model): how far its features are from the other's",
    "l_d_distill": "realism check (your model): how far its verdicts are from the other's",
    "l_td_real": "realism check (Best quality): how well it knows photos",
    "l_td_fake": "realism check (Best quality): how well it spots Best quality's results",
    "l_total": "all losses together",
}


# A training run's stages, as the loss plot marks where each begins (engine: ScheduleConfig).
STAGE_WORDS = {
    "teacher_d": "realism check learns",
    "warmup": "learning from Best quality",
    "gan": "adding realism",
}


def stage_words(stage: str) -> str:
    """ "gan" -> "adding realism"; an unknown stage with its underscores as spaces."""
    return STAGE_WORDS.get(stage, stage.replace("_", " "))


def loss_words(key: str) -> str:
    """ "l_g_fm" -> "feature match"; an unknown key shown as it is."""
    return LOSS_WORDS.get(key, key)


def loss_meaning(key: str) -> str:
    """ "check: yours — realism check (your model): how well it spots ... (l_d_fake)": the
    legend entry, what it measures and the raw name (CSV columns, logs) for the tooltip."""
    meaning = LOSS_MEANINGS.get(key)
    return f"{loss_words(key)} — {meaning} ({key})" if meaning else key


# Model files the app cannot open: the engine says why in its terms ("pickle opcodes outside
# the safe subset", "unsupported model architecture"); a person also needs what to do next.
MODEL_FILE_PROBLEMS = (
    "unreadable weights file",
    "not a readable model file",
    "pickled Python code",
    "unsupported model architecture",
    "weights do not fit the detected architecture",
    "no state dict of tensors",
    "cannot read the teacher weights",
    "not an RRDBNet state dict",
    "RRDBNet weights do not load",
)
MODEL_FILE_USE = (
    "use a .safetensors or .pth file of an ESRGAN-family upscaling model (Real-ESRGAN, "
    "ESRGAN, or one made by this app)."
)
MODEL_FILE_HINT = f"This file is not a model MFAGAN Studio can open safely: {MODEL_FILE_USE}"
# What torch's restricted unpickler refused (engine: user_models._unpickling_reason), as the
# engine says it: a pickle the safe loader will not run, which may hold code.
UNSAFE_PICKLE_REASONS = (
    "not a readable model file (corrupt pickle data, or pickle opcodes outside the safe subset)",
    "refused: it contains pickled Python code",
)
UNSAFE_PICKLE_WORDS = "not a model file this app can read safely (it may contain code)"


def model_file_message(reason: str) -> tuple[str, str]:
    """(what a person reads, the technical reason behind it or ""): a pickle the safe loader
    refused is said plainly, the engine's reason kept for the details; what to do is added
    when the reason is about an unusable model file."""
    for technical in UNSAFE_PICKLE_REASONS:
        start = reason.find(technical)
        if start >= 0:
            plain = f"{reason[:start]}{UNSAFE_PICKLE_WORDS}. Instead, {MODEL_FILE_USE}"
            return plain, reason[start:]
    if any(problem in reason for problem in MODEL_FILE_PROBLEMS) and MODEL_FILE_HINT not in reason:
        return f"{reason.rstrip('.')}. {MODEL_FILE_HINT}", ""
    return reason, ""


DETAILS_LABEL = "Technical details:"


def model_file_words(reason: str) -> str:
    """``reason`` in one line, with what the user can do added when it is about an unusable
    model file (a refused pickle: plain words first, the engine's reason after them)."""
    text, details = model_file_message(reason)
    return f"{text} {DETAILS_LABEL} {details}" if details else text


DEVICE_WORDS = {"cpu": "the processor", "cuda": "the graphics card", "mps": "the graphics chip"}


def run_notice_words(notice: Notice) -> str:
    """A training run's notice for the status line: what it learns from and where (a
    TrainingSetup) -> "Learning from 5 photos, 1 kept aside to check progress, on the
    processor"; other notices as the engine says them."""
    if not isinstance(notice, TrainingSetup):
        return notice.message
    device = notice.device.split(":")[0]
    where = DEVICE_WORDS.get(device, device)
    if notice.processes > 1:
        where = f"{notice.processes} of {where.removeprefix('the ')}s at once"
    train, val = notice.train_images, notice.val_images
    photos = f"{train} photo{'s' if train != 1 else ''}"
    aside = f", {val} kept aside to check progress" if val else ""
    return f"Learning from {photos}{aside}, on {where}"


# A training run's preparation stages (engine: teacher_cache) for progress lines: Best
# quality (the teacher) upscales pieces of the photos once, the examples the run learns from.
RUN_STAGE_TEXT = {
    "scan": "Reading your photos",
    "teacher cache": "Making examples with Best quality",
    "teacher cache (val)": "Making examples to check progress with",
}
