"""The README section rendered from a card whose runs carry portable records."""

from __future__ import annotations

from pathlib import Path

from engine.distill.provenance import provenance
from engine.distill.publish_table import render_table


def _scores(value: float | None) -> dict:
    return {"psnr_gt": 1.0, "ssim_gt": 0.1, "psnr_teacher": value, "ssim_teacher": value}


def test_a_portable_card_renders_names_digests_and_what_placeholders_mean(tmp_path: Path):
    sets = tmp_path / "sets"
    for name in ("T91", "Set5"):
        (sets / name).mkdir(parents=True)
        (sets / name / "a.png").write_bytes(name.encode())
    run = tmp_path / "runs" / "b6"
    trained = provenance(f"mfagan distill --data {sets / 'T91'} --out {run}", [sets / "T91"])
    published = provenance(f"mfagan publish {run} --eval {sets / 'Set5'}", [sets / "Set5"])
    card = {
        "config": "b2-c8-g8-h11-conv-x4",
        "cost": {"macs": 10, "params": 1234},
        "teacher_macs": 1000,
        "training": trained.as_dict() | {"steps": 300},
        "init": {
            "weights": "first.safetensors",
            "weights_sha256": "ab" * 32,
            "training": trained.as_dict() | {"steps": 100},
        },
        "evaluation": {
            "Set5": {
                "protocol": "modcrop 4",
                "bicubic": _scores(1.0),
                "teacher": _scores(None),
                "student": _scores(5.0),
                "goals": {
                    "fidelity_gain_db": 4.0,
                    "fidelity_gain_met": True,
                    "psnr_gt_margin_db": 0.0,
                    "psnr_gt_met": True,
                },
            }
        },
        "published": published.as_dict() | {"date": "2026-12-01"},
    }
    first = render_table(card).splitlines()[0]
    digest = trained.data[0]["sha256"]
    assert first.startswith('Measured by `mfagan publish "$RUNS/b6" --eval "$DATASETS/Set5"`')
    assert f"trained for 100 steps on T91 (1 file, sha256 {digest[:12]}…)" in first
    assert "then fine-tuned for 300 steps on T91 (`mfagan distill" in first  # digest once
    assert first.endswith(
        "Commands run from the repository root; `$DATASETS` is the folder holding the data "
        "sets, each under its own name; `$RUNS` is a folder of your choice outside the "
        "repository, for run outputs (and other files a command names)."
    )
    assert str(tmp_path) not in render_table(card)
