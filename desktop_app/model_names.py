"""Model names for people that tell the models shipped with the app from the user's own.

The registry's titles alone do not: "Phone (Snapdragon 865 GPU, 15 ms)" (shipped) sat next
to "phone-snapdragon-865 (yours)" (made by the phone wizard). Shipped models are the
registry's built-in names; a model of the user's whose card records a search (``nas``) was
made for a phone.
"""

from __future__ import annotations

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
