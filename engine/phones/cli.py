"""``mfagan devices`` (list, calibrate, --adb) and ``mfagan latency``: flags -> phones engine.

``register(subparsers)`` adds both commands to the main parser and returns their handlers;
bad input raises UsageError / ModelError (one line, exit 2 in ``engine.cli.run_handler``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.arguments import Handler, positive_int


def _add_column_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unit", help="compute unit: npu, gpu or cpu (default: the profile's first)"
    )
    parser.add_argument("--precision", help="w8a8 or float (default: the unit's first)")
    parser.add_argument("--runtime", help="tflite, qnn_dlc or onnx (default: tflite)")


def register(sub: Any) -> dict[str, Handler]:
    devices = sub.add_parser(
        "devices",
        help="phone profiles: list them, check their calibration, or detect a phone (adb)",
        description="List the phone profiles (public AI Hub latencies and the latency model "
        "calibrated on them), print one profile's calibration, or detect a phone over adb.",
    )
    devices.add_argument("--json", action="store_true", help="print the result as JSON")
    devices.add_argument("--adb", action="store_true", help="detect the phone connected over adb")
    actions = devices.add_subparsers(dest="devices_action", required=False)
    calibrate = actions.add_parser(
        "calibrate", help="predicted vs published latency per reference net, with LOO errors"
    )
    calibrate.add_argument("--device", "-d", required=True, help="profile id (mfagan devices)")
    calibrate.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_column_flags(calibrate)

    lat = sub.add_parser("latency", help="predicted phone latency of a model (default SD865)")
    lat.add_argument(
        "--model", "-m", default=None, help="model name or file, MFA config, or reference net"
    )
    lat.add_argument("--size", type=positive_int, default=128, help="LR input side (pixels)")
    lat.add_argument("--device", "-d", default=None, help="profile id (default snapdragon-865)")
    _add_column_flags(lat)
    lat.add_argument("--json", action="store_true", help="print the result as JSON")
    return {"devices": _cmd_devices, "latency": _cmd_latency}


def _cmd_devices(args: argparse.Namespace) -> int:
    if getattr(args, "devices_action", None) == "calibrate":
        return _cmd_calibrate(args)
    if args.adb:
        return _cmd_adb(args)
    from engine.phones.catalog import list_profiles

    profiles = list_profiles()
    if args.json:
        print(json.dumps([p.as_dict() for p in profiles], indent=2))
        return 0
    print(f"{'profile':<20} {'chipset':<38} {'default column':<18} {'LOO mean':>8}  columns")
    for p in profiles:
        column = p.default_column
        loo = "-" if column.loo_mean is None else f"{column.loo_mean:.1%}"
        mark = " (default)" if p.is_default else ""
        print(f"{p.id:<20} {p.chipset:<38} {column.key:<18} {loo:>8}  {len(p.columns)}{mark}")
    print("mfagan devices calibrate --device ID: every column, predicted vs published")
    return 0


def _cmd_adb(args: argparse.Namespace) -> int:
    from engine.phones.adb import detect_phone

    detection = detect_phone()
    if args.json:
        print(json.dumps(detection.as_dict(), indent=2))
    elif not detection.found:  # no adb, no phone, adb failed: an error, not a result
        print(f"error: {detection.message}", file=sys.stderr)
    else:
        print(detection.message)
        if detection.profile or detection.nearest:
            use = detection.profile or detection.nearest
            print(f"use: mfagan latency --device {use}")
    return 0 if detection.found else 1


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from engine.phones.calibration import calibration_for

    calibrated = calibration_for(args.device)
    if args.unit or args.precision or args.runtime:
        fits = [
            calibrated.fit(args.unit or calibrated.device.units[0], args.precision, args.runtime)
        ]
    else:
        fits = list(calibrated.fits)
    device = calibrated.device
    if args.json:
        data = {
            "profile": args.device,
            "device": device.name,
            "aihub_devices": list(device.aihub_devices),
            "package": device.package,
            "columns": {fit.column.key: fit.as_dict() for fit in fits},
        }
        print(json.dumps(data, indent=2))
        return 0
    print(f"{device.name} ({device.chipset}); source: {device.package or device.source}")
    for fit in fits:
        _print_fit(fit)
    return 0


def _print_fit(fit: Any) -> None:
    excluded = set(fit.column.excluded)
    print(f"\n{fit.column.title}  [{fit.column.key}]")
    print(f"  {'reference net':<26} {'published':>10} {'predicted':>10} {'error':>7}")
    for point in fit.loo.points:
        print(
            f"  {point.key:<26} {point.measured_ms:>8.3f}ms {point.predicted_ms:>8.3f}ms "
            f"{point.relative_error:>7.1%}"
        )
    for key in sorted(excluded):
        print(f"  {key:<26} left out of the fit: {dict(fit.column.measurements_ms)[key]} ms")
    print(
        f"  leave-one-out error (each net predicted by a fit to the others): "
        f"mean {fit.loo.mean:.1%}, max {fit.loo.worst:.1%}"
    )


def _cmd_latency(args: argparse.Namespace) -> int:
    from engine.errors import UsageError
    from engine.models.registry import default_model_name
    from engine.phones.calibration import calibration, calibration_for
    from engine.phones.predict import predict_latency
    from engine.phones.targets import latency_target

    calibrated = calibration_for(args.device) if args.device else calibration()
    device = calibrated.device
    device.column(args.unit or device.units[0], args.precision, args.runtime)  # bad names: now
    target = latency_target(args.model or default_model_name())
    if args.size % target.size_multiple:
        raise UsageError(f"--size must be a multiple of {target.size_multiple} for {target.name}")
    result = predict_latency(
        target.module,
        height=args.size,
        width=args.size,
        in_channels=target.in_channels,
        calibrated=calibrated,
        unit=args.unit,
        precision=args.precision,
        runtime=args.runtime,
    )
    if args.json:
        print(json.dumps({"model": target.name} | result.as_dict(), indent=2))
        return 0
    _print_latency(target.name, args.size, result)
    return 0


def _print_latency(name: str, size: int, result: Any) -> None:
    cal = result.calibration
    shown = f"{size}x{size}" + (" (extrapolated)" if result.extrapolated else "")
    print(f"model   {name}  ({result.report.macs / 1e9:.2f} GMACs at {shown})")
    print(f"device  {cal.device.name} (AI Hub: {' / '.join(cal.device.aihub_devices)})")
    selected = cal.fit(*result.selected.split("/"))
    for fit in [selected] + [f for f in cal.fits if f is not selected]:
        estimate = result.estimates[fit.column.key]
        mark = "*" if fit is selected else " "
        rough = "  (rough; confirm on AI Hub)" if fit.column.model == "power-law" else ""
        print(
            f"{mark} {fit.column.title:<44} {estimate.ms:8.2f} ms  "
            f"(band {estimate.low_ms:.2f}-{estimate.high_ms:.2f}){rough}"
        )
    for caveat in dict.fromkeys(c for e in result.estimates.values() for c in e.caveats):
        print(f"  note: {caveat}")
    for fit in cal.fits:
        loo = fit.loo
        print(
            f"{fit.column.key:<18} calibration: leave-one-out error {loo.mean:.1%} mean, "
            f"{loo.worst:.1%} max over {len(loo.points)} public measurements"
        )
