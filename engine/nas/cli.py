"""``mfagan supernet train|publish`` (and the search commands): flags -> requests -> engine jobs.

``register(subparsers)`` adds the commands and returns their handlers, like
engine.distill.cli; each handler returns an exit code and lets MfaganError / Cancelled reach
``engine.cli.main``. ``python -m engine.nas supernet train ...`` runs the same commands
on their own (what ``torchrun`` launches for multi-process training).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.arguments import (
    Handler,
    add_data,
    add_models_dir,
    add_quiet,
    add_resume,
    add_schedule,
    check_out_folder,
    command_line,
    positive_int,
    run_training,
    run_writing,
    training_overrides,
)
from engine.nas.train_config import RULES


def _add_supernet(sub: Any) -> None:
    p = sub.add_parser(
        "supernet",
        help="train or publish the weight-sharing supernet of MFA students (NAS)",
        description="The once-for-all supernet over the MFA search space: 'train' distils "
        "the teacher into it (sandwich rule), 'publish' ships a trained one with its card.",
    )
    actions = p.add_subparsers(dest="supernet_command", required=True)
    t = actions.add_parser("train", help="train (or resume) a supernet")
    t.add_argument("--config", type=Path, required=True, help="TOML/JSON (see engine.nas)")
    add_data(t)
    t.add_argument("--out", type=Path, required=True, help="run folder (checkpoints, metrics)")
    add_resume(t)
    add_schedule(t)
    t.add_argument("--init", help="student to warm-start from: 'default', a file or 'none'")
    t.add_argument("--rule", choices=RULES, help="sandwich or progressive shrinking")
    t.add_argument("--threads", type=positive_int, help="CPU threads (1 on a busy machine)")
    add_quiet(t)
    p = actions.add_parser(
        "publish",
        help="(maintainers) measure a trained supernet and ship it in resources/models",
        description="Score the run's reference subnets (float32 and float16 weights) with "
        "the eval protocol on each --eval folder, then write the supernet (float16 when that "
        "costs no measured fidelity) and its model card into --models-dir.",
    )
    p.add_argument("run", type=Path, help="a 'mfagan supernet train' --out folder")
    p.add_argument("--eval", type=Path, action="append", default=[], help="HR test folder")
    add_models_dir(p)
    p.add_argument("--stem", default=None, help="file name stem (default mfagan-supernet)")
    add_quiet(p)


def register(subparsers: Any) -> dict[str, Handler]:
    """Add ``supernet`` to an argparse subparsers object; returns its handler."""
    from engine.nas.search_cli import register as register_search

    _add_supernet(subparsers)
    return {"supernet": cmd_supernet} | register_search(subparsers)


def cmd_supernet(args: argparse.Namespace) -> int:
    return {"train": _cmd_train, "publish": _cmd_publish}[args.supernet_command](args)


def _train_config(args: argparse.Namespace):
    import dataclasses

    from engine.distill.config import with_overrides
    from engine.nas.train_config import load_supernet_config

    config = load_supernet_config(args.config)
    init = None if args.init == "none" else args.init
    distill = with_overrides(config.distill, training_overrides(args))
    if args.init is not None:
        distill = dataclasses.replace(distill, init=init)
    rules = dataclasses.replace(config.rules, rule=args.rule or config.rules.rule)
    return dataclasses.replace(config, distill=distill, rules=rules)


def _cmd_train(args: argparse.Namespace) -> int:
    from engine.nas.train import SupernetRequest, train_supernet

    config = _train_config(args)
    request = SupernetRequest(
        config=config,
        out_dir=args.out,
        resume=args.resume,
        command=command_line(),
    )
    result = run_training(
        lambda cancel: train_supernet(request, cancel=cancel),
        args.out,
        quiet=args.quiet,
        threads=args.threads,
    )
    if result is not None:
        print(f"supernet: {result.supernet}")
        if result.best_metrics:
            best = result.best_metrics
            print(
                f"best validation (step {best['step']}): mean fidelity "
                f"{best['mean_psnr_teacher']:.2f} dB over the reference subnets ({result.best})"
            )
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from engine.nas.publish import DEFAULT_STEM, PublishRequest, publish_supernet

    request = PublishRequest(
        run_dir=args.run,
        datasets=tuple(args.eval),
        models_dir=args.models_dir,
        stem=args.stem or DEFAULT_STEM,
        command=command_line(),
    )
    check_out_folder("--models-dir", request.models_dir)  # before minutes of scoring
    result = run_writing(
        lambda cancel: publish_supernet(request, cancel=cancel),
        request.models_dir,
        quiet=args.quiet,
    )
    for dataset, entry in result.evaluation.items():
        bicubic = entry["bicubic"]["psnr_teacher"]
        for name, scores in entry[result.precision].items():
            print(
                f"{dataset} {name}: fidelity {scores['psnr_teacher']:.2f} dB "
                f"({scores['psnr_teacher'] - bicubic:+.2f} over bicubic)"
            )
    print(f"published {result.weights} ({result.precision}) and {result.card}")
    return 0
