"""``mfagan search``: flags -> a frozen SearchRequest -> the search job -> text/JSON/PNG.

``register(subparsers)`` adds the command and returns its handler (engine.nas.cli calls it,
beside the supernet commands).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from engine.arguments import (
    Handler,
    add_quiet,
    add_teacher,
    check_out_folder,
    command_line,
    positive_int,
    run_writing,
    writes_into,
)
from engine.events import CancelToken

GOAL_PER_MINUTE = 1000


def _add_search(sub: Any) -> None:
    p = sub.add_parser(
        "search",
        help="find the MFA student most faithful to the teacher within a latency budget (NAS)",
        description="Evolutionary search over the supernet's subnets: every candidate the "
        "device's latency model predicts within --budget-ms is scored by its fidelity to the "
        "teacher on fixed validation patches (shared supernet weights); a random search with "
        "the same budget and candidate count runs beside it as the baseline.",
    )
    p.add_argument("--device", default="snapdragon-865", help="phone profile or this-computer")
    p.add_argument("--budget-ms", type=float, required=True, help="latency budget (ms)")
    p.add_argument("--unit", choices=("gpu", "npu"), default="gpu", help="phone compute unit")
    p.add_argument(
        "--precision",
        choices=("float", "w8a8"),
        default=None,
        help="weights on the phone (default: the profile's)",
    )
    p.add_argument("--runtime", default=None, help="phone runtime: tflite, qnn_dlc or onnx")
    p.add_argument(
        "--size", type=positive_int, help="LR input side (phones 128, this computer 512)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same search)")
    p.add_argument("--candidates", type=positive_int, default=500, help="configs to score")
    p.add_argument("--population", type=positive_int, default=100, help="configs per generation")
    p.add_argument("--parent-ratio", type=float, default=0.25, help="share kept as parents")
    p.add_argument("--mutation-ratio", type=float, default=0.5, help="share made by mutation")
    p.add_argument("--mutate-prob", type=float, default=0.1, help="chance each gene mutates")
    p.add_argument("--no-baseline", action="store_true", help="skip the random-search baseline")
    p.add_argument("--supernet", type=Path, help="supernet file (default: the shipped one)")
    add_teacher(p)
    p.add_argument("--patches", type=positive_int, help="validation patches (fitness)")
    p.add_argument("--patch-size", type=positive_int, help="validation patch side (LR px)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch threads for scoring")
    p.add_argument("--refit-host", action="store_true", help="re-time this computer's model")
    p.add_argument("--out", type=Path, help="folder for search.json and pareto.png")
    p.add_argument("--finetune", type=positive_int, metavar="STEPS", help="fine-tune the pick")
    p.add_argument("--data", type=Path, action="append", help="--finetune: folder of HR photos")
    p.add_argument("--name", help="--finetune: user model name (default mfagan-<device>-<ms>ms)")
    p.add_argument("--eval", type=Path, action="append", default=[], help="--finetune: HR test set")
    p.add_argument("--finetune-out", type=Path, help="--finetune: run folder")
    p.add_argument("--bench", action="store_true", help="report candidates scored per minute")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_quiet(p)


def register(subparsers: Any) -> dict[str, Handler]:
    _add_search(subparsers)
    return {"search": cmd_search}


def _request(args: argparse.Namespace):
    from engine.errors import UsageError
    from engine.nas.evolution import EvolutionSettings
    from engine.nas.search import DEFAULT_TEACHER, SearchRequest
    from engine.nas.valset import PatchPlan

    try:
        settings = EvolutionSettings(
            population=args.population,
            parent_ratio=args.parent_ratio,
            mutation_ratio=args.mutation_ratio,
            mutate_prob=args.mutate_prob,
            candidates=args.candidates,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    plan = PatchPlan()
    plan = PatchPlan(count=args.patches or plan.count, size=args.patch_size or plan.size)
    return SearchRequest(
        device=args.device,
        budget_ms=args.budget_ms,
        unit=args.unit,
        precision=args.precision,
        runtime=args.runtime,
        size=args.size,
        seed=args.seed,
        evolution=settings,
        baseline=not args.no_baseline,
        supernet=args.supernet,
        teacher=args.teacher or DEFAULT_TEACHER,
        patches=plan,
        threads=args.threads,
        host_refit=args.refit_host,
    )


def cmd_search(args: argparse.Namespace) -> int:
    from engine.console import run_job
    from engine.nas import report
    from engine.nas.search import run_search

    request = _request(args)
    name = _check_finetune(args)  # before minutes of search
    finetune_out = _finetune_out(args, name)
    _check_outputs(args, finetune_out)  # so is where its results go: a failed write would lose them
    cancel = CancelToken()  # shared: a Ctrl-C after the search's last check stops --finetune
    result = run_job(lambda cancel: run_search(request, cancel), quiet=args.quiet, cancel=cancel)
    written = []
    if args.out:  # a disk that filled during the search: one line, not a traceback
        with writes_into(args.out):
            written = report.write_outputs(result, args.out)
    if args.json:
        print(json.dumps(report.as_dict(result, candidates=False), indent=2))
    else:
        print(report.render_text(result))
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    if finetune_out is not None:
        _finetune(result, args, name, finetune_out, cancel)
    if args.bench:
        return _bench_line(result)
    return 0


def _bench_line(result) -> int:
    rates = [o for o in (result.evolution, result.random) if o is not None]
    plan = result.request.patches
    slowest = min(o.per_minute for o in rates)
    print(
        "bench: "
        + ", ".join(
            f"{o.search} {o.per_minute:.0f}/min ({len(o.scored)} in {o.seconds:.1f} s)"
            for o in rates
        )
        + f"; {plan.count} patches of {plan.size}x{plan.size} LR px, "
        f"{result.request.threads} thread(s); goal {GOAL_PER_MINUTE}/min: "
        + ("met" if slowest >= GOAL_PER_MINUTE else "NOT met")
    )
    return 0 if slowest >= GOAL_PER_MINUTE else 1


def _finetune_out(args: argparse.Namespace, name: str | None) -> Path | None:
    """The --finetune run folder (None without --finetune)."""
    from engine.paths import data_dir

    if not args.finetune:
        return None
    return args.finetune_out or data_dir() / "nas" / str(name)


def _check_outputs(args: argparse.Namespace, finetune_out: Path | None) -> None:
    from engine.errors import UsageError

    if finetune_out is not None:
        from engine.models.registry import user_models_dir

        # the pick is registered after the fine-tune, like mfagan distill's student
        check_out_folder("the models folder", user_models_dir())
    for flag, folder in (("--out", args.out), ("--finetune-out", finetune_out)):
        check_out_folder(flag, folder)
    for name in ("search.json", "pareto.png") if args.out is not None else ():
        if (args.out / name).exists() and not (args.out / name).is_file():
            raise UsageError(f"--out: cannot write {args.out / name} (it is not a file)")


def _check_finetune(args: argparse.Namespace) -> str | None:
    from engine.distill.export import check_model_name
    from engine.errors import UsageError

    if not args.finetune:
        return None
    if not args.data:
        raise UsageError("--finetune needs --data FOLDER (photos to distil the pick on)")
    for folder in [*args.data, *args.eval]:
        if not folder.is_dir():
            raise UsageError(f"{folder}: no such folder")
    budget = f"{args.budget_ms:g}".replace(".", "_")
    return check_model_name(args.name or f"mfagan-{args.device}-{budget}ms")


def _finetune(
    result, args: argparse.Namespace, name: str | None, out: Path, cancel: CancelToken
) -> None:
    from engine.nas.pick import finetune_pick

    tuned = run_writing(  # a disk that fills mid-run: one line, as mfagan distill
        lambda cancel: finetune_pick(
            result, steps=args.finetune, data=args.data, out=out, name=name,
            eval_datasets=args.eval, command=command_line(), cancel=cancel,
        ),
        out,
        quiet=args.quiet,
        cancel=cancel,
    )  # fmt: skip
    print(f"fine-tuned {result.pick.config.encode()} for {args.finetune} steps: {tuned.student}")
    for dataset, entry in tuned.evaluation.items():
        print(
            f"{dataset}: fidelity {entry['student']['psnr_teacher']:.2f} dB "
            f"(bicubic {entry['bicubic']['psnr_teacher']:.2f})"
        )
    if tuned.model is not None:
        print(f"registered user model {name!r}: {tuned.model}")
