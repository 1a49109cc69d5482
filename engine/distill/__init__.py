"""Distil the Real-ESRGAN teacher into an MFAGAN student: G and D distillation, resumable.

Entry points: ``engine.distill.trainer.distill`` (the job), ``engine.distill.cli.register``
(the ``distill`` and ``eval`` commands), ``python -m engine.distill`` (for ``torchrun``).
"""
