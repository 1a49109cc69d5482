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
        else:
            plain.append(part.replace("the teacher", "Best quality"))
    shown = "; ".join(plain)
    details_line = "; ".join(details)
    if details_line and "Set14" in details_line:
        details_line += " (Set14: a standard test set of photos; PSNR-Y: higher is closer)"
    return shown, details_line


# Loss names of a training run's history, for the legend of the loss plot.
LOSS_WORDS = {  # short: the legend sits in the plot's right margin
    "l_g_total": "model: total",
    "l_g_gt": "vs original",
    "l_g_distill": "vs Best quality",
    "l_g_feat": "features",
    "l_g_fm": "feature match",
    "l_g_gan": "realism",
    "l_d_total": "judge: total",
    "l_d_real": "judge: photos",
    "l_d_fake": "judge: results",
    "l_d_feat": "judge: features",
    "l_d_distill": "judge: vs Best",
    "l_td_real": "judge: Best q.",
    "l_td_fake": "judge: ours",
    "l_total": "total",
}


# A training run's stages, as the loss plot marks where each begins (engine: ScheduleConfig).
STAGE_WORDS = {
    "teacher_d": "judge warms up",
    "warmup": "learning from Best quality",
    "gan": "adding realism",
}


def stage_words(stage: str) -> str:
    """ "gan" -> "adding realism"; an unknown stage with its underscores as spaces."""
    return STAGE_WORDS.get(stage, stage.replace("_", " "))


def loss_words(key: str) -> str:
    """ "l_g_fm" -> "feature matching"; an unknown key shown as it is."""
    return LOSS_WORDS.get(key, key)


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
MODEL_FILE_HINT = (
    "This file is not a model MFAGAN Studio can open safely: use a .safetensors or .pth file "
    "of an ESRGAN-family upscaling model (Real-ESRGAN, ESRGAN, or one made by this app)."
)


def model_file_words(reason: str) -> str:
    """``reason`` with what the user can do added when it is about an unusable model file."""
    if any(problem in reason for problem in MODEL_FILE_PROBLEMS) and MODEL_FILE_HINT not in reason:
        return f"{reason.rstrip('.')}. {MODEL_FILE_HINT}"
    return reason


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
