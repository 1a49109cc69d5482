"""``mfagan distill`` and ``mfagan eval``: flags -> frozen requests -> engine jobs.

``register(subparsers)`` adds both commands to the main parser and returns their handlers;
each handler returns an exit code and lets MfaganError / Cancelled reach ``engine.cli.main``.
``python -m engine.distill`` runs the same commands on their own (that is what ``torchrun``
launches for multi-process training).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.arguments import (
    Handler,
    add_data,
    add_models_dir,
    add_quiet,
    add_resume,
    add_schedule,
    add_teacher,
    check_out_folder,
    command_line,
    positive_int,
    run_training,
    run_writing,
    training_overrides,
)
from engine.measure import DEGRADATIONS

if TYPE_CHECKING:
    from engine.distill.config import DistillConfig

DEFAULT_NAME = "mfagan-custom"


def _add_distill(sub: Any) -> None:
    p = sub.add_parser(
        "distill",
        help="train a student by distilling the teacher (or fine-tune one on your photos)",
        description="Distil the teacher into an MFAGAN student on folders of photos. "
        "Checkpoints, metrics and pictures go to --out; the result is registered as a "
        "user model (--name) usable with 'upscale --model NAME'.",
    )
    add_data(p)
    p.add_argument("--config", type=Path, help="TOML or JSON config (see engine.distill.config)")
    p.add_argument("--student-config", help="student architecture, e.g. b4-c32-g16-h1111-conv-x4")
    p.add_argument("--init", help="'default' (fine-tune the shipped student) or a student file")
    add_schedule(p)
    p.add_argument("--teacher", help="teacher model name or RRDBNet .safetensors file")
    p.add_argument("--out", type=Path, help="run folder (default: <data dir>/distill/<name>)")
    add_resume(p)
    p.add_argument("--name", default=DEFAULT_NAME, help=f"user model name (default {DEFAULT_NAME})")
    p.add_argument("--no-register", action="store_true", help="do not register the result")
    p.add_argument(
        "--threads", type=positive_int, help="CPU threads (1 is faster on a busy machine)"
    )
    add_quiet(p)


def _add_eval(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="PSNR/SSIM (Y, x4) vs ground truth and vs the teacher, with bicubic and teacher",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", type=Path, help="folder of HR images (ground truth)")
    source.add_argument(
        "--lr",
        type=Path,
        metavar="DIR",
        help="folder of photos to upscale as they are (no ground truth: fidelity to the teacher)",
    )
    p.add_argument(
        "--degrade",
        choices=DEGRADATIONS,
        default="bicubic",
        help="how --dataset photos become inputs: 'bicubic' (the standard x4 protocol) or "
        "'real' (blur, resize, noise and JPEG as real photos are damaged; fixed seed per photo)",
    )
    p.add_argument("--model", "-m", action="append", default=[], help="model name or file")
    add_teacher(p)
    p.add_argument("--limit", type=positive_int, help="only the first N images")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_quiet(p)


def _add_publish(sub: Any) -> None:
    p = sub.add_parser(
        "publish",
        help="(maintainers) measure a finished run and ship it as the default student",
        description="Score RUN's best student on each --eval folder (with bicubic and the "
        "teacher), render a side-by-side of each --picture, then write the student, its "
        "discriminators and a model card (all numbers measured here) into --models-dir.",
    )
    p.add_argument("run", type=Path, help="a finished 'mfagan distill' --out folder")
    p.add_argument(
        "--eval", type=Path, action="append", default=[], help="HR test folder (repeatable)"
    )
    p.add_argument(
        "--picture",
        type=Path,
        action="append",
        default=[],
        help="photo for the side-by-side, in neither training nor test data (repeatable)",
    )
    p.add_argument(
        "--degrade",
        choices=DEGRADATIONS,
        action="append",
        help="protocols for each --eval folder (repeatable; default: both bicubic and real)",
    )
    p.add_argument(
        "--lr",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="folder of inputs without ground truth, scored for fidelity (repeatable)",
    )
    add_models_dir(p)
    p.add_argument("--stem", default=None, help="file name stem (default mfagan-x4)")
    p.add_argument("--picture-out", type=Path, help="side-by-side PNG (default docs/STEM.png)")
    p.add_argument("--readme", type=Path, help="README whose student section gets the table")
    add_quiet(p)


def register(subparsers: Any) -> dict[str, Handler]:
    """Add ``distill``, ``eval`` and ``publish`` to an argparse subparsers object; returns
    their handlers."""
    _add_distill(subparsers)
    _add_eval(subparsers)
    _add_publish(subparsers)
    return {"distill": cmd_distill, "eval": cmd_eval, "publish": cmd_publish}


def _init_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--init`` beside a ``--config`` file: the run starts from that student, whose
    architecture its file records (the D widths stay the config file's). Without a config
    file, ``fine_tune_config`` reads all of this itself."""
    from engine.distill import export

    if not (args.init and args.config):
        return {}
    overrides: dict[str, Any] = {"init": args.init}
    if not args.student_config:
        overrides["student"] = export.student_config_of(export.init_weights(args.init))
    return overrides


def _distill_config(args: argparse.Namespace) -> DistillConfig:
    from engine.distill.config import DistillConfig, load_config, with_overrides
    from engine.distill.fine_tune import fine_tune_config
    from engine.models.mfa import MFAConfig

    if args.config:
        config = load_config(args.config)
    else:
        config = fine_tune_config(args.init) if args.init else DistillConfig()
    student = MFAConfig.decode(args.student_config) if args.student_config else None
    overrides = {"student": student, "teacher": args.teacher} | training_overrides(args)
    return with_overrides(config, overrides | _init_overrides(args))


def cmd_distill(args: argparse.Namespace) -> int:
    from engine.distill.trainer import DistillRequest, distill
    from engine.paths import data_dir

    config = _distill_config(args)
    out = args.out or data_dir() / "distill" / args.name
    register_as = None if args.no_register else args.name
    if register_as:
        from engine.distill.export import check_model_name
        from engine.models.registry import user_models_dir

        check_model_name(register_as)
        # registered only after the training: a models folder that cannot take it says so now
        check_out_folder("the models folder", user_models_dir())
    request = DistillRequest(
        config=config,
        out_dir=out,
        resume=args.resume,
        register_as=register_as,
        command=command_line(),
    )
    result = run_training(
        lambda cancel: distill(request, cancel=cancel), out, quiet=args.quiet, threads=args.threads
    )
    if result is not None:
        print(f"student: {result.student}")
        if result.best_metrics:
            best = result.best_metrics["student"]
            print(
                f"best validation (step {result.best_metrics['step']}): {best['psnr_teacher']:.2f}"
                f" dB vs teacher, {best['psnr_gt']:.2f} dB vs ground truth"
            )
        if result.registered:
            print(f"registered as '{args.name}': {result.registered}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from engine.console import run_job
    from engine.measure.evaluate import DEFAULT_TEACHER, EvalRequest, evaluate, render_table

    request = EvalRequest(
        dataset=args.lr or args.dataset,
        models=tuple(args.model),
        teacher=args.teacher or DEFAULT_TEACHER,
        limit=args.limit,
        degrade=args.degrade,
        lr_only=args.lr is not None,
    )
    result = run_job(lambda cancel: evaluate(request, cancel=cancel), quiet=args.quiet or args.json)
    print(json.dumps(result.as_dict(), indent=2) if args.json else render_table(result))
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from engine.distill.publish import (
        DEFAULT_STEM,
        END_MARKER,
        START_MARKER,
        PublishRequest,
        publish,
    )
    from engine.measure.bench_report import check_readme
    from engine.paths import RESOURCES

    stem = args.stem or DEFAULT_STEM
    request = PublishRequest(
        run_dir=args.run,
        datasets=tuple(args.eval),
        pictures=tuple(args.picture),
        degrade=tuple(dict.fromkeys(args.degrade or DEGRADATIONS)),
        lr_dirs=tuple(args.lr),
        models_dir=args.models_dir,
        stem=stem,
        picture_out=args.picture_out or RESOURCES.parent / "docs" / f"{stem}.png",
        readme=args.readme,
        command=command_line(),
    )
    check_out_folder("--models-dir", request.models_dir)  # before minutes of scoring
    check_out_folder("--picture-out", request.picture_out.parent)
    if request.readme is not None:
        check_readme(request.readme, start_marker=START_MARKER, end_marker=END_MARKER)
    result = run_writing(
        lambda cancel: publish(request, cancel=cancel), request.models_dir, quiet=args.quiet
    )
    for name, e in result.evaluation.items():
        g = e["goals"]
        versus_gt = (
            f"student {e['student']['psnr_gt']:.2f} dB vs GT "
            f"(teacher {e['teacher']['psnr_gt']:.2f}), "
            if e["student"]["psnr_gt"] is not None
            else ""
        )
        print(
            f"{name}: {versus_gt}fidelity {e['student']['psnr_teacher']:.2f}"
            f" dB ({g['fidelity_gain_db']:+.2f} over bicubic)"
        )
    print(f"published {result.student} ({'goals met' if result.goals_met else 'goals NOT met'})")
    return 0
