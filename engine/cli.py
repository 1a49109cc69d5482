"""The ``mfagan`` command: every engine job from a terminal.

Exit codes: 0 success, 1 some input failed, 2 usage error, 130 cancelled.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import engine
from engine.arguments import Handler, add_quiet, positive_int
from engine.errors import MfaganError, ModelError, UsageError, printable
from engine.events import Cancelled, CancelToken

if TYPE_CHECKING:
    from engine.inference.upscale import WriteOptions

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _tile(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 32:
        raise argparse.ArgumentTypeError(f"must be 'auto' or at least 32 pixels, not {text}")
    return value


def _name_pattern(text: str) -> str:
    from engine.inference.batch_plan import check_name_pattern

    try:
        return check_name_pattern(text)
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_image_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", "-m", default=None, help="model name or .pth/.safetensors file")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--scale", "-s", type=int, choices=(2, 3, 4), help="output scale")
    size.add_argument("--width", type=positive_int, help="output width (keeps aspect ratio)")
    size.add_argument("--height", type=positive_int, help="output height (keeps aspect ratio)")
    parser.add_argument("--tile", type=_tile, default=None, help="auto (default) or pixels")
    parser.add_argument(
        "--backend",
        choices=("auto", "onnx", "openvino", "torch"),
        default="auto",
        help="auto (default: the fastest runtime measured on this computer, once per model) "
        "or force one",
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=("png", "jpg", "jpeg", "webp", "tiff", "tif", "bmp"),
        default=None,
        help="output format (default: the output name's suffix, else the input's format)",
    )
    parser.add_argument("--quality", "-q", type=int, default=95, help="JPEG/WebP quality 1-100")
    parser.add_argument("--strip-metadata", action="store_true", help="drop EXIF and ICC")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing outputs (never an input)"
    )
    parser.add_argument(
        "--name",
        type=_name_pattern,
        default=None,
        help="output name pattern, fields {stem} {model} {scale}",
    )
    add_quiet(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mfagan", description="MFAGAN Studio: 4x photo upscaling.")
    parser.add_argument("--version", action="version", version=f"mfagan {engine.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    up = sub.add_parser("upscale", help="upscale one image")
    up.add_argument("input", type=Path)
    up.add_argument(
        "-o", "--output", default=None, help="output file, or folder (existing, or ending in /)"
    )
    _add_image_options(up)

    batch = sub.add_parser("batch", help="upscale every image of a folder")
    batch.add_argument("input", type=Path)
    batch.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    batch.add_argument(
        "--recursive", "-r", action="store_true", help="subfolders too, mirrored under -o"
    )
    batch.add_argument("--skip-existing", action="store_true", help="resume a stopped batch")
    _add_image_options(batch)

    models = sub.add_parser("models", help="list the available models")
    models.add_argument("--json", action="store_true", help="print the list as JSON")

    prof = sub.add_parser("profile", help="parameters, MACs and memory of a model")
    prof.add_argument("--model", "-m", default=None, help="model or file (default: the default)")
    prof.add_argument("--size", type=positive_int, default=128, help="LR input side (pixels)")
    prof.add_argument("--json", action="store_true", help="print the profile as JSON")

    bench = sub.add_parser("bench", help="teacher vs student cost and speed, in one run")
    bench.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="write the table between the bench markers of this Markdown file (docs/BENCH.md)",
    )
    bench.add_argument("--quick", action="store_true", help="small sizes, one repeat (smoke)")
    bench.add_argument("--json", action="store_true", help="print the measurements as JSON")

    from engine.distill.cli import register
    from engine.export.cli import register as register_export
    from engine.nas.cli import register as register_nas
    from engine.phones.cli import register as register_phones

    handlers: dict[str, Callable[[argparse.Namespace], int]] = (
        {
            "upscale": _cmd_upscale,
            "batch": _cmd_batch,
            "models": _cmd_models,
            "profile": _cmd_profile,
            "bench": _cmd_bench,
        }
        | register(sub)
        | register_nas(sub)
        | register_export(sub)
        | register_phones(sub)
    )
    for name, handler in handlers.items():
        sub.choices[name].set_defaults(handler=handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from engine.console import ctrl_c_ends

    # Also while the parser imports the commands' modules; when this is the process (no
    # argv given), a Ctrl-C as it exits is ignored: the outcome is decided and said.
    with ctrl_c_ends(keep=argv is None):
        return stdout_checked(lambda: _parse_and_run(argv))


def _parse_and_run(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): return it, like every command
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return run_handler(args.handler, args)


def stdout_checked(run: Callable[[], int]) -> int:
    """``run()``; a write on stdout that fails (a full disk, a closed pipe), during the
    command or the last flush, ends it with one line on stderr and exit 1, not a traceback."""
    from engine.console import WatchedStream, discard_stdout

    if sys.stdout is None:
        return run()
    watched = WatchedStream(sys.stdout)
    sys.stdout = watched
    code = EXIT_FAILED
    try:
        code = run()
        watched.flush()  # what is still buffered fails here, not at interpreter exit
    except OSError as error:
        if error is not watched.error:
            raise
    finally:
        if sys.stdout is watched:
            sys.stdout = watched.stream
    if watched.error is None:  # (argparse's --help swallows the error it met)
        return code
    if watched.stream is sys.__stdout__:
        discard_stdout()
    reason = watched.error.strerror or type(watched.error).__name__
    with contextlib.suppress(OSError):  # stderr may have gone with it
        return _ended(EXIT_FAILED, f"error: cannot write the output to stdout ({reason})")
    return EXIT_FAILED


def run_handler(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; every way it can end becomes an exit code and one readable line."""
    from engine.console import ctrl_c_ends, settle

    settle(None)
    with ctrl_c_ends():  # any number of Ctrl-C: exit 130 and one line, never a traceback
        code = _run(handler, args)
        settle(code)
        return code


def run_commands(
    register: Callable[[Any], dict[str, Handler]],
    description: str,
    argv: Sequence[str] | None = None,
) -> int:
    """One command module on its own (``python -m engine.distill``, what torchrun launches):
    only the commands ``register`` adds, run like ``mfagan``'s."""
    parser = argparse.ArgumentParser(prog="mfagan", description=description)
    handlers = register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return stdout_checked(lambda: run_handler(handlers[args.command], args))


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from engine.console import CANCELLED

    try:
        return handler(args)
    except Cancelled as stop:
        detail = str(stop)
        # Jobs that can be resumed say where they stopped and how to go on.
        where = f": {detail}" if detail and detail != "cancelled" else ""
        return _ended(EXIT_CANCELLED, CANCELLED.replace("cancelled", f"cancelled{where}", 1))
    except KeyboardInterrupt:  # raised by code that installed its own handler
        return _ended(EXIT_CANCELLED, CANCELLED)
    except (UsageError, ModelError) as exc:
        return _ended(EXIT_USAGE, f"error: {exc}")
    except MfaganError as exc:
        return _ended(EXIT_FAILED, f"error: {exc}")
    except MemoryError as exc:
        return _ended(EXIT_FAILED, f"error: {exc or 'not enough memory'}")


def _ended(code: int, line: str) -> int:
    """Say how the command ended; a Ctrl-C from here on exits with ``code``, silently."""
    from engine.console import settle

    settle(code)
    print(printable(line), file=sys.stderr)
    return code


def _upscaler(args: argparse.Namespace):
    from engine.inference.upscale import Upscaler
    from engine.models.registry import default_model_name, get_model

    descriptor = get_model(args.model or default_model_name())
    if not descriptor.trained:
        raise ModelError(
            f"model {descriptor.name!r} has no trained weights yet, so it would only produce "
            f"noise; use --model {default_model_name()} (the default) or another from "
            "'mfagan models'"
        )
    return Upscaler(descriptor, backend=args.backend, tile=args.tile)


def _target_and_write(args: argparse.Namespace):
    from engine.inference.upscale import TargetSize, WriteOptions

    target = TargetSize(scale=args.scale, width=args.width, height=args.height)
    write = WriteOptions(
        format=args.format, quality=args.quality, keep_metadata=not args.strip_metadata
    )
    return target, write


def _format_from_the_name(output: Path, write: WriteOptions) -> WriteOptions:
    """An output file's suffix says its format, as in realesrgan-ncnn-vulkan: a --format
    that contradicts it (``-o x.png --format jpg``) gives way, and one line says so."""
    from dataclasses import replace

    from engine.imageio.formats import FORMATS, format_clash, format_for_suffix

    clash = None if write.format is None else format_clash(output, write.format)
    if clash is None:
        return write
    label = FORMATS[format_for_suffix(output.suffix)].label
    print(
        f"note: {output}: {clash}; written as {label} (--format names the format of "
        "outputs named from the pattern, with -o a folder)",
        file=sys.stderr,
    )
    return replace(write, format=None)


def _check_name(path: Path, *, extra: int | None = None) -> None:
    """UsageError naming ``path`` when a name in it is longer than the file system takes."""
    from engine.files import name_problem

    if (problem := name_problem(path, extra=extra)) is not None:
        raise UsageError(f"{path}: {problem}")


def _cmd_upscale(args: argparse.Namespace) -> int:
    from engine.console import kept_line, run_job, watch_output
    from engine.files import folder_problem, remove_stale_temporaries
    from engine.imageio import SUPPORTED_SUFFIXES
    from engine.imageio.reader import input_format
    from engine.imageio.source import input_problem
    from engine.inference.batch import DEFAULT_NAME_PATTERN, output_name
    from engine.inference.file_upscale import upscale_file
    from engine.inference.outputs import check_output, output_folder, output_for

    source: Path = args.input
    if (problem := input_problem(source)) is not None:  # a folder, FIFO, device, link loop
        raise UsageError(f"{source}: {problem}")
    content = input_format(source)  # a GIF fails here as reading it would, whatever -o says
    # A suffix we cannot write ("scan.jfif", none): a name in -o's folder takes the format
    # of the content, else PNG (reading then says what is wrong, as for -o x.png).
    name_format = None if source.suffix.lower() in SUPPORTED_SUFFIXES else content or "PNG"
    target, write = _target_and_write(args)
    # Where the result goes is checked before the model is even looked up.
    if args.output is not None:  # a name too long for the file system: no stat can tell
        _check_name(Path(args.output), extra=0)
    folder = output_folder(source, args.output)
    if folder is None:
        write = _format_from_the_name(Path(args.output), write)
        _check_name(Path(args.output))
        check_output(
            Path(args.output), inputs=[source], format=write.format, overwrite=args.overwrite
        )
    elif (problem := folder_problem(folder)) is not None:
        raise UsageError(problem)
    upscaler = _upscaler(args)
    name = output_name(
        source,
        pattern=args.name or DEFAULT_NAME_PATTERN,
        model=upscaler.descriptor.name,
        scale_label=target.label(upscaler.descriptor.scale),
        format=write.format or name_format,
    )
    output = output_for(source, args.output, default_name=name)
    _check_name(output)
    check_output(output, inputs=[source], format=write.format, overwrite=args.overwrite)
    remove_stale_temporaries(output.parent, targets={output.name})  # a killed run's
    cancel = CancelToken()
    watch_output(output)  # a cancel once it is published says it was kept
    details = run_job(
        lambda cancel: upscale_file(
            upscaler,
            source,
            output,
            target=target,
            write=write,
            cancel=cancel,
            overwrite=args.overwrite,
        ),
        quiet=args.quiet,
        cancel=cancel,
    )
    if cancel.cancelled:  # Ctrl-C came after the last check: the file was already published
        return _ended(EXIT_CANCELLED, kept_line(output))
    print(
        printable(
            f"{details['output']}  ({details['output_size'][0]}x{details['output_size'][1]}, "
            f"model {details['model']}, backend {details['backend']}, tile {details['tile']}, "
            f"{details['seconds']:.1f} s)"
        )
    )
    return EXIT_OK


def _cmd_batch(args: argparse.Namespace) -> int:
    from engine.console import run_job
    from engine.inference.batch import DEFAULT_NAME_PATTERN, BatchRequest, run_batch

    target, write = _target_and_write(args)
    request = BatchRequest(
        input_dir=args.input,
        output_dir=args.output,
        recursive=args.recursive,
        skip_existing=args.skip_existing,
        overwrite=args.overwrite,
        name_pattern=args.name or DEFAULT_NAME_PATTERN,
        target=target,
        write=write,
    )
    upscaler = _upscaler(args)
    result = run_job(lambda cancel: run_batch(upscaler, request, cancel), quiet=args.quiet)
    headline, *details = batch_summary(result, request.output_dir, failures_shown=not args.quiet)
    print(headline)
    for line in details:
        print(line, file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FAILED


def batch_summary(result, output_dir: Path, *, failures_shown: bool) -> list[str]:
    """The lines that end a batch: counts, where the results are (only if that folder exists),
    each failure once (when the live output did not show it), and every file left aside."""
    counts = (
        f"{len(result.done)} upscaled, {len(result.skipped)} skipped, {len(result.failed)} failed"
    )
    if result.ignored:
        counts += f", {len(result.ignored)} left aside"
    where = f" -> {output_dir}" if output_dir.is_dir() else "; nothing was written"
    lines = [counts + where]
    if not failures_shown:
        lines += [f"failed: {path}: {reason}" for path, reason in result.failed]
    lines += [f"left aside: {path}: {why}" for path, why in result.ignored]
    return [printable(line) for line in lines]  # file names may hold control characters


def _cmd_models(args: argparse.Namespace) -> int:
    from engine.models.registry import default_model_name, list_models

    default = default_model_name()
    descriptors = list_models()
    rows = [
        {
            "name": d.name,
            "title": d.title,
            "architecture": d.architecture,
            "scale": d.scale,
            "in_channels": d.in_channels,
            "out_channels": d.out_channels,
            "size_multiple": d.size_multiple,
            "trained": d.trained,
            "default": d.name == default,
            "description": d.description,
        }
        for d in descriptors
    ]
    if args.json:
        for row, descriptor in zip(rows, descriptors, strict=True):
            row["runtime"] = _auto_runtime(descriptor)
        print(json.dumps({"models": rows}, indent=2))
        return EXIT_OK
    for row in rows:
        flags = " (default)" if row["default"] else ""
        flags += "" if row["trained"] else " (untrained)"
        name, title = printable(row["name"]), printable(row["title"])  # a card names them
        print(f"{name:<28} x{row['scale']}  {title}{flags}")
    return EXIT_OK


def _auto_runtime(descriptor) -> dict | None:
    """What ``--backend auto`` picked for this model on this computer, with the probe times
    it measured; None until the model has run once (listing models measures nothing)."""
    from engine.inference.backends import available_threads
    from engine.inference.runtime_choice import cached_choice

    if not descriptor.trained:
        return None
    try:
        choice = cached_choice(descriptor, available_threads())
    except Exception:  # a model whose weights cannot be read: listed, not measured
        return None
    return None if choice is None else choice.as_dict()


def _cmd_profile(args: argparse.Namespace) -> int:
    from engine.models.profiling import profile_model
    from engine.models.registry import default_model_name, get_model

    descriptor = get_model(args.model or default_model_name())
    report = profile_model(
        descriptor.load(), height=args.size, width=args.size, in_channels=descriptor.in_channels
    )
    data = {"model": descriptor.name, "lr_size": [args.size, args.size]} | report.as_dict()
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_OK
    width = max(len(k) for k in data)
    for key, value in data.items():
        shown = f"{value:,}" if isinstance(value, int) else value
        print(f"{key:<{width}}  {shown}")
    return EXIT_OK


def _cmd_bench(args: argparse.Namespace) -> int:
    from engine.console import run_job
    from engine.measure.bench import BenchSettings, render_table, run_bench, update_readme
    from engine.measure.bench_report import check_readme

    if args.readme is not None:
        check_readme(args.readme)  # a wrong path fails now, not after minutes of timing
    settings = BenchSettings.quick() if args.quick else BenchSettings()
    result = run_job(lambda cancel: run_bench(settings, cancel=cancel))
    table = render_table(result)
    print(json.dumps(result.as_dict(), indent=2) if args.json else table)
    if args.readme is not None:
        update_readme(args.readme, table)
        print(f"table written into {args.readme}", file=sys.stderr)
    return EXIT_OK if result.goals_passed else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
