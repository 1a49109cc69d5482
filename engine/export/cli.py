"""``mfagan export`` and ``mfagan aihub login``: flags -> a frozen ExportRequest -> the job.

``register(subparsers)`` adds both commands to the main parser and returns their handlers;
handlers return an exit code and let MfaganError / Cancelled reach ``engine.cli.main``
(UsageError and ModelError: exit 2, other MfaganError: exit 1).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from engine.arguments import Handler, add_quiet, positive_int
from engine.errors import UsageError


def _add_export(sub: Any) -> None:
    from engine.export.request import DEFAULT_SIZE, DEFAULT_TEACHER, FORMATS

    p = sub.add_parser(
        "export",
        help="export a model for phones and desktops (ONNX, INT8, TFLite, TorchScript, AI Hub)",
        description="Write a bundle folder: the model in each --format, verified in its own "
        "runtime against PyTorch, a model card with cost, fidelity and latency, and a README "
        "for the phone side. Formats: " + ", ".join(FORMATS) + " (repeat or comma-separate).",
    )
    p.add_argument("--model", "-m", default=None, help="model name or weights file")
    p.add_argument("--format", "-f", action="append", required=True, help="export format(s)")
    p.add_argument("--out", "-o", type=Path, required=True, help="bundle folder to write")
    p.add_argument("--size", type=positive_int, default=DEFAULT_SIZE, help="LR tile side (px)")
    p.add_argument("--device", "-d", default=None, help="phone profile (default snapdragon-865)")
    p.add_argument("--calibration", type=Path, help="folder of your photos for INT8 calibration")
    p.add_argument("--calibration-count", type=positive_int, default=32, help="crops (32)")
    p.add_argument(
        "--quant-method", choices=("minmax", "percentile", "entropy"), help="INT8 calibration"
    )
    p.add_argument(
        "--keep-float",
        help="parts of the ONNX INT8 graph left in float: comma list of first,last,tail or none",
    )
    p.add_argument(
        "--teacher",
        default=DEFAULT_TEACHER,
        help=f"fidelity reference (default {DEFAULT_TEACHER}; 'none' to skip)",
    )
    p.add_argument("--validation", type=Path, action="append", default=[], help="extra photo")
    p.add_argument("--unit", choices=("npu", "gpu"), default="npu", help="AI Hub compute unit")
    p.add_argument("--runtime", choices=("tflite", "qnn_dlc"), default="tflite", help="AI Hub")
    p.add_argument("--no-aihub-inference", action="store_true", help="profile only on AI Hub")
    p.add_argument("--json", action="store_true", help="print the model card")
    add_quiet(p)


def _add_aihub(sub: Any) -> None:
    p = sub.add_parser("aihub", help="Qualcomm AI Hub account and cached phone measurements")
    commands = p.add_subparsers(dest="aihub_command", required=True, parser_class=type(p))
    login = commands.add_parser(
        "login",
        help="store your AI Hub API token (read from a hidden prompt or stdin, never argv)",
        description="Stores the token in qai-hub's own configuration file "
        "(~/.qai_hub/client.ini, or $QAIHUB_CLIENT_INI), readable only by you.",
    )
    # Caught so that a token typed after "login" is refused without being echoed back.
    login.add_argument("refused", nargs="*", help=argparse.SUPPRESS)
    listing = commands.add_parser("measurements", help="list cached AI Hub profile results")
    listing.add_argument("--device", default=None, help="only this AI Hub device")
    listing.add_argument("--json", action="store_true", help="print the result as JSON")


def register(sub: Any) -> dict[str, Handler]:
    _add_export(sub)
    _add_aihub(sub)
    return {"export": cmd_export, "aihub": cmd_aihub}


def _formats(values: list[str]) -> tuple[str, ...]:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return tuple(dict.fromkeys(names))


def _recipe(args: argparse.Namespace):
    from dataclasses import replace

    from engine.export.request import DEFAULT_RECIPE

    recipe = DEFAULT_RECIPE
    if args.quant_method:
        recipe = replace(recipe, method=args.quant_method)
    if args.keep_float is not None:
        parts = tuple(
            p.strip() for p in args.keep_float.split(",") if p.strip() not in ("", "none")
        )
        bad = [p for p in parts if p not in ("first", "last", "tail")]
        if bad:
            raise UsageError(
                f"--keep-float: unknown part {bad[0]!r}; use first, last, tail or none"
            )
        recipe = replace(recipe, keep_float=parts)
    return recipe


def request_from_args(args: argparse.Namespace):
    from engine.export.request import ExportRequest
    from engine.models.registry import default_model_name

    teacher = None if str(args.teacher).lower() == "none" else args.teacher
    return ExportRequest(
        model=args.model or default_model_name(),
        formats=_formats(args.format),
        out_dir=args.out,
        size=args.size,
        device=args.device,
        calibration=args.calibration,
        calibration_count=args.calibration_count,
        teacher=teacher,
        validation_photos=tuple(args.validation),
        quant=_recipe(args),
        unit=args.unit,
        runtime=args.runtime,
        aihub_inference=not args.no_aihub_inference,
    )


def cmd_export(args: argparse.Namespace) -> int:
    from engine.console import run_job
    from engine.export.job import export_bundle

    request = request_from_args(args)
    result = run_job(lambda cancel: export_bundle(request, cancel=cancel), quiet=args.quiet)
    if args.json:
        print(json.dumps(result.card, indent=2))
    else:
        fid = result.card["fidelity"]
        print(f"{result.out_dir}  ({len(result.files)} files, {result.seconds:.1f} s)")
        if fid.get("float_psnr_y_vs_teacher_db") is not None:
            print(f"float PSNR-Y vs teacher: {fid['float_psnr_y_vs_teacher_db']:.2f} dB")
        for name, loss in (fid.get("int8_loss_vs_teacher_db") or {}).items():
            print(f"INT8 loss vs teacher: {loss:.2f} dB ({name})")
    return 0


def _read_token() -> str:
    """One line from a hidden prompt or stdin ('' at end of input); no error quotes it."""
    try:
        if sys.stdin.isatty():
            return getpass.getpass("AI Hub API token (input hidden): ")
        return sys.stdin.readline()
    except EOFError:
        return ""
    except UnicodeDecodeError:  # its text would quote bytes of the token
        raise UsageError("the token read from the input is not text (not UTF-8)") from None


def cmd_aihub(args: argparse.Namespace) -> int:
    from engine.phones import aihub

    if args.aihub_command == "login":
        if args.refused:
            raise UsageError(
                "the token is never taken from the command line (it would stay in your shell "
                "history); run 'mfagan aihub login' and paste it at the prompt, or pipe it in"
            )
        path = aihub.store_token(_read_token())
        print(f"AI Hub token saved to {path} (readable only by you)")
        return 0
    from engine.phones.aihub_cache import skipped_measurements

    entries = aihub.cached_measurements(args.device)
    skipped = skipped_measurements(args.device)
    if skipped:
        print(
            f"skipped {len(skipped)} unreadable or malformed cache file(s), e.g. {skipped[0]}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps({"measurements": entries}, indent=2))
        return 0
    if not entries:
        print("no AI Hub measurements cached yet ('mfagan export --format aihub' makes them)")
    for e in entries:
        print(
            f"{e['measured_at']}  {e['device']}  {e['compute_unit']}/{e['runtime']}  "
            f"{e['inference_ms']:.2f} ms  layers {e.get('layers_by_unit') or {}}"
        )
    return 0
