"""PatchGAN: 70x70 receptive field, spectral norm, aligned teacher/student maps."""

from __future__ import annotations

import torch
from torch.nn.utils import parametrize

from engine.distill.adapters import StudentWithAdapters, auto_pairs
from engine.distill.discriminator import PatchDiscriminator
from engine.models.mfa import MFAConfig, MFAGenerator


def test_receptive_field_is_70_pixels():
    torch.manual_seed(0)
    d = PatchDiscriminator(ndf=4).eval()
    x = torch.rand(1, 3, 128, 128, requires_grad=True)
    logits, _ = d(x)
    logits[0, 0, logits.shape[2] // 2, logits.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 3)))
    cols = torch.nonzero(x.grad.abs().sum(dim=(0, 1, 2)))
    assert int(rows.max() - rows.min() + 1) == 70 and int(cols.max() - cols.min() + 1) == 70


def test_spectral_norm_on_every_conv_and_maps_align_across_widths():
    teacher_d, student_d = PatchDiscriminator(ndf=64), PatchDiscriminator(ndf=16)
    assert all(parametrize.is_parametrized(c, "weight") for c in [*student_d.convs, student_d.head])
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        (t_logits, t_feats), (s_logits, s_feats) = teacher_d(x), student_d(x)
    assert t_logits.shape == s_logits.shape == (2, 1, 6, 6)
    assert [f.shape[2:] for f in t_feats] == [f.shape[2:] for f in s_feats]
    assert teacher_d.feature_widths == (64, 128, 256, 512)


def test_student_adapters_map_block_outputs_to_teacher_width():
    assert auto_pairs(4, 23) == ((1, 11), (3, 22))
    assert auto_pairs(2, 2) == ((0, 0), (1, 1))
    student = StudentWithAdapters(
        MFAGenerator(MFAConfig.decode("b4-c32-g16-h1111-conv-x4")), ((1, 11), (3, 22)), 64
    )
    output, adapted = student(torch.rand(1, 3, 12, 12))
    assert output.shape == (1, 3, 48, 48)
    assert {k: tuple(v.shape) for k, v in adapted.items()} == {
        11: (1, 64, 12, 12),
        22: (1, 64, 12, 12),
    }
