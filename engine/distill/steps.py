"""One optimisation step of each kind; each returns its named losses as floats.

Loss names are stable (CSV columns, plot legends): ``l_td_*`` teacher D pre-training,
``l_g_*`` student generator, ``l_d_*`` student discriminator.

Discriminators see images clamped to [0, 1]: teacher and student outputs overshoot slightly,
and a D must not learn to spot fakes by their range. Real and fake go through D in one
concatenated batch, so each DDP-wrapped module runs exactly one forward per backward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.distill import losses
from engine.distill.config import DistillConfig, LossWeights
from engine.distill.nets import Nets, ema_decay, set_student_lrs, update_ema
from engine.distill.sampler import Batch

LOSS_KEYS = (
    "l_td_real",
    "l_td_fake",
    "l_g_distill",
    "l_g_feat",
    "l_g_gt",
    "l_g_gan",
    "l_g_fm",
    "l_g_total",
    "l_d_real",
    "l_d_fake",
    "l_d_distill",
    "l_d_feat",
    "l_d_total",
)


def _floats(terms: dict[str, torch.Tensor]) -> dict[str, float]:
    return {name: float(value.detach()) for name, value in terms.items()}


def teacher_d_step(nets: Nets, batch: Batch) -> dict[str, float]:
    """Teacher D learns to tell real HR crops from the teacher's outputs."""
    n = batch.hr.shape[0]
    logits, _ = nets.teacher_d_train(torch.cat([batch.hr, batch.teacher.clamp(0, 1)]))
    terms = {
        "l_td_real": losses.gan_loss(logits[:n], real=True),
        "l_td_fake": losses.gan_loss(logits[n:], real=False),
    }
    nets.opt_td.zero_grad(set_to_none=True)
    (terms["l_td_real"] + terms["l_td_fake"]).backward()
    nets.opt_td.step()
    return _floats(terms)


def generator_step(
    nets: Nets, batch: Batch, weights: LossWeights, *, gan: bool
) -> tuple[dict[str, float], torch.Tensor]:
    """Student G: L1 to the teacher, feature hints, small L1 to GT (+ GAN terms in stage 3).

    Returns the losses and the detached SR output for the D step.
    """
    output, adapted = nets.student_train(batch.lr)
    terms = {"l_g_distill": F.l1_loss(output, batch.teacher), "l_g_gt": F.l1_loss(output, batch.hr)}
    total = weights.distill * terms["l_g_distill"] + weights.gt * terms["l_g_gt"]
    if adapted:
        terms["l_g_feat"] = losses.feature_distill(adapted, batch.feats)
        total = total + weights.feat * terms["l_g_feat"]
    if gan:
        # The plain module, not its DDP wrapper: D is frozen here and must not sync gradients.
        student_d = nets.student_d.d
        student_d.requires_grad_(False)
        logits, fake_feats = student_d(output.clamp(0, 1))
        terms["l_g_gan"] = losses.gan_loss(logits, real=True)
        total = total + weights.gan * terms["l_g_gan"]
        if weights.fm > 0:
            with torch.no_grad():
                _, real_feats = student_d(batch.hr)
            terms["l_g_fm"] = losses.feature_matching(fake_feats, real_feats)
            total = total + weights.fm * terms["l_g_fm"]
        student_d.requires_grad_(True)
    terms["l_g_total"] = total
    nets.opt_g.zero_grad(set_to_none=True)
    total.backward()
    nets.opt_g.step()
    return _floats(terms), output.detach()


def discriminator_step(
    nets: Nets, batch: Batch, fake: torch.Tensor, weights: LossWeights
) -> dict[str, float]:
    """Student D: its own GAN loss plus distillation of the frozen teacher D on the same inputs."""
    n = batch.hr.shape[0]
    inputs = torch.cat([batch.hr, fake.clamp(0, 1)])
    logits, _, adapted = nets.student_d_train(inputs)
    terms = {
        "l_d_real": losses.gan_loss(logits[:n], real=True),
        "l_d_fake": losses.gan_loss(logits[n:], real=False),
    }
    total = terms["l_d_real"] + terms["l_d_fake"]
    if weights.d_distill > 0 or adapted:
        with torch.no_grad():
            teacher_logits, teacher_feats = nets.teacher_d(inputs)
        terms["l_d_distill"] = losses.logit_distill(logits, teacher_logits)
        total = total + weights.d_distill * terms["l_d_distill"]
        if adapted:
            terms["l_d_feat"] = losses.maps_distill(adapted, teacher_feats)
            total = total + weights.d_feat * terms["l_d_feat"]
    terms["l_d_total"] = total
    nets.opt_d.zero_grad(set_to_none=True)
    total.backward()
    nets.opt_d.step()
    return _floats(terms)


def stage_step(nets: Nets, batch: Batch, config: DistillConfig, step: int) -> dict[str, float]:
    """Step ``step`` of a distillation, of whichever stage it falls in: this rank's losses."""
    stage = config.schedule.stage(step)
    training_d = stage == "teacher_d"
    nets.teacher_d.train(training_d).requires_grad_(training_d)
    if training_d:
        return teacher_d_step(nets, batch)
    gan = stage == "gan"
    set_student_lrs(nets, config.schedule, step)
    terms, fake = generator_step(nets, batch, config.losses, gan=gan)
    g_steps = step - config.schedule.teacher_d_steps
    update_ema(nets.ema, nets.student.generator, ema_decay(config.schedule.ema_decay, g_steps))
    if gan:
        terms |= discriminator_step(nets, batch, fake, config.losses)
    return terms
