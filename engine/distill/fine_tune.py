"""What a fine-tuning run starts from: a trained student's architecture and D widths.

Kept apart from ``config`` so that the config module imports nothing above it: these
defaults read weight files (``export``), the config schema does not.
"""

from __future__ import annotations

from engine.distill import export
from engine.distill.config import DataConfig, DistillConfig, ScheduleConfig

# LR pixels of teacher context when fine-tuning: the shipped student learnt from teacher
# outputs in context, so a user's photos teach it the same way (a 64-px LR window per 32-px
# crop: up to 4x the teacher time of the crop alone).
FINE_TUNE_CONTEXT = 16


def fine_tune_config(init: str = "default") -> DistillConfig:
    """Defaults for ``--init``: a trained student and its Ds continue on the user's photos.

    The student's architecture and the D widths are read from the ``init`` file (and the
    ``-d.safetensors`` beside it), so the run fits whatever student shipped. No teacher-D
    pre-training or warm-up (both were done for that student), fewer steps and gentler
    learning rates, so the student adapts without forgetting; teacher outputs in context.
    """
    path = export.init_weights(init)
    widths = export.discriminator_widths(export.discriminators_path(path))
    return DistillConfig(
        student=export.student_config_of(path),
        init=init,
        **widths,
        data=DataConfig(teacher_context=FINE_TUNE_CONTEXT),
        schedule=ScheduleConfig(
            steps=2000,
            teacher_d_steps=0,
            warmup_steps=0,
            lr_g=5e-5,
            lr_d=5e-5,
            val_every=250,
        ),
    )
