"""A batch planned whole before anything is written: every source, its output, and what
happens to it. Planning reads and writes nothing but folder listings, so the app can show it
and a batch refuses a bad request before the model loads.

Safety rules: no output replaces an input (links resolved) or an existing file without
``overwrite``; two inputs never share an output; files this batch's name pattern would have
written from another input of the same folder (an earlier run of it) are not inputs, nor
is any result of the app found in the input folder (engine/inference/batch_scan.py).
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.errors import UsageError
from engine.files import folder_problem, name_problem
from engine.imageio import SUPPORTED_SUFFIXES, format_for_suffix
from engine.inference.batch_scan import SCALE_LABEL, scan_folder
from engine.inference.outputs import InputFiles, output_problem

PATTERN_FIELDS = ("stem", "model", "scale")
SUFFIX_FOR_FORMAT = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "TIFF": ".tiff", "BMP": ".bmp"}
EARLIER_OUTPUT = "an earlier output of this batch (its name follows the name pattern)"

Action = Literal["upscale", "skip", "fail"]


def check_name_pattern(pattern: str) -> str:
    """``pattern`` if its only replacement fields are the plain ``PATTERN_FIELDS``: no
    attribute or index access (``{stem.__class__}``), conversion or format spec."""
    fields = ", ".join("{" + f + "}" for f in PATTERN_FIELDS)
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise UsageError(f"name pattern {pattern!r} is invalid ({exc}); fields: {fields}") from None
    for _, name, spec, conversion in parts:
        if name is not None and (name not in PATTERN_FIELDS or spec or conversion):
            shown = "{" + name + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise UsageError(
                f"name pattern {pattern!r} is invalid: {shown} is not a field; fields: {fields}"
            )
    return pattern


def output_name(
    source: Path, *, pattern: str, model: str, scale_label: str, format: str | None
) -> str:
    """File name for ``source``'s result: the pattern, plus the output format's suffix."""
    check_name_pattern(pattern)
    try:
        stem = pattern.format(stem=source.stem, model=model, scale=scale_label)
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"name pattern {pattern!r} is invalid ({exc}); fields: "
            + ", ".join("{" + f + "}" for f in PATTERN_FIELDS)
        ) from exc
    if not stem or "/" in stem or "\\" in stem:
        raise UsageError(f"name pattern {pattern!r} must give a plain file name")
    suffix = SUFFIX_FOR_FORMAT[format_for_suffix(f".{format}")] if format else source.suffix
    return stem + suffix.lower()


@dataclass(frozen=True, kw_only=True)
class PlannedFile:
    source: Path
    output: Path
    action: Action
    reason: str = ""  # why it is skipped or fails


@dataclass(frozen=True, kw_only=True)
class BatchPlan:
    files: list[PlannedFile] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)  # not taken as inputs

    @property
    def outputs(self) -> list[Path]:
        """The files the batch will write (the app can show them before it starts)."""
        return [f.output for f in self.files if f.action == "upscale"]


@dataclass(frozen=True, kw_only=True)
class PlanSettings:
    input_dir: Path
    output_dir: Path
    recursive: bool
    skip_existing: bool
    overwrite: bool
    name_pattern: str
    format: str | None
    model: str
    scale_label: str


def make_plan(settings: PlanSettings) -> BatchPlan:
    """Plan a batch (see the module docstring); UsageError when nothing could be written."""
    problem = folder_problem(settings.output_dir)
    if problem is not None:
        raise UsageError(problem)
    scan = scan_folder(
        settings.input_dir, recursive=settings.recursive, exclude=settings.output_dir
    )
    pairs = [(source, _output_for(source, settings)) for source in scan.images]
    earlier = _earlier_outputs(pairs, settings.name_pattern)
    ignored = list(scan.ignored) + [(path, EARLIER_OUTPUT) for path in sorted(earlier)]
    pairs = [(source, output) for source, output in pairs if source not in earlier]
    _refuse_clashes(pairs, settings)
    inputs = InputFiles(source for source, _ in pairs)
    files = [_planned(source, output, inputs, settings) for source, output in pairs]
    return BatchPlan(files=files, ignored=sorted(ignored))


def _output_for(source: Path, settings: PlanSettings) -> Path:
    relative = source.parent.relative_to(settings.input_dir)
    name = output_name(
        source,
        pattern=settings.name_pattern,
        model=settings.model,
        scale_label=settings.scale_label,
        format=settings.format,
    )
    return settings.output_dir / relative / name


def _planned(source: Path, output: Path, inputs: InputFiles, settings: PlanSettings) -> PlannedFile:
    # First: a name the file system cannot hold would make the checks below fail (ENAMETOOLONG).
    problem = name_problem(output) or output_problem(
        output,
        inputs=inputs,
        format=settings.format or source.suffix,
        overwrite=settings.overwrite or settings.skip_existing,
    )
    if problem is not None:
        return PlannedFile(source=source, output=output, action="fail", reason=problem)
    if settings.skip_existing and output.exists():
        return PlannedFile(source=source, output=output, action="skip", reason="output exists")
    return PlannedFile(source=source, output=output, action="upscale")


def _refuse_clashes(pairs: list[tuple[Path, Path]], settings: PlanSettings) -> None:
    by_output: dict[Path, list[Path]] = defaultdict(list)
    for source, output in pairs:
        by_output[output.resolve()].append(source)
    clashes = [(out, sources) for out, sources in by_output.items() if len(sources) > 1]
    if not clashes:
        return
    output, sources = clashes[0]
    names = ", ".join(str(s) for s in sources[:-1]) + f" and {sources[-1]}"
    more = f" ({len(clashes) - 1} more clashes like it)" if len(clashes) > 1 else ""
    hint = (
        "add {stem} to it"
        if "{stem}" not in settings.name_pattern
        else "the inputs differ only in their suffix: leave out --format or rename one"
    )
    raise UsageError(
        f"{names} would all be written to {output}{more}; with name pattern "
        f"{settings.name_pattern!r} two inputs get one output name ({hint})"
    )


def _pattern_regex(pattern: str, stem: str | None) -> re.Pattern[str] | None:
    """What names the pattern gives any model and size, for ``stem`` (None: any stem)."""
    parts = []
    seen_stem = False
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:
        return None
    for literal, name, spec, conversion in parsed:
        parts.append(re.escape(literal))
        if name is None:
            continue
        if spec or conversion or name not in PATTERN_FIELDS:
            return None  # a pattern too unusual to recognise: nothing is set aside
        if name == "stem" and stem is not None:
            parts.append(re.escape(stem))
        elif name == "stem":
            parts.append("(?P=stem)" if seen_stem else "(?P<stem>.+)")
            seen_stem = True
        else:
            parts.append(".+" if name == "model" else SCALE_LABEL)
    suffixes = "|".join(re.escape(s) for s in SUPPORTED_SUFFIXES)
    return re.compile("".join(parts) + f"(?:{suffixes})", re.IGNORECASE)


def _earlier_outputs(pairs: list[tuple[Path, Path]], pattern: str) -> set[Path]:
    """Inputs whose name is what the pattern makes of another input written to their folder.

    A pattern that keeps the stem as it is ("{stem}") makes names indistinguishable from
    originals: then nothing is set aside, and the rule that no output replaces an input
    protects the files instead.
    """
    general = _pattern_regex(pattern, None)
    if general is None:
        return set()
    stems_by_folder: dict[Path, set[str]] = defaultdict(set)
    for source, output in pairs:
        stems_by_folder[output.parent.resolve()].add(source.stem)
    earlier = set()
    for source, _ in pairs:
        stems = stems_by_folder.get(source.parent.resolve(), set())
        match = general.fullmatch(source.name)
        if match is None or not stems:
            continue
        if "stem" not in general.groupindex:
            found = len(stems) > 1 or source.stem not in stems
        else:
            found = _made_from(source, match["stem"], stems, pattern)
        if found:
            earlier.add(source)
    return earlier


def _made_from(source: Path, stem: str, stems: set[str], pattern: str) -> bool:
    candidates = [stem] if stem in stems else [s for s in stems if s in source.name]
    for candidate in candidates:
        if candidate == source.stem:
            continue
        regex = _pattern_regex(pattern, candidate)
        if regex is not None and regex.fullmatch(source.name):
            return True
    return False
