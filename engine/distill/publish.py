"""Ship a finished distillation run as the default student, with everything measured by code.

``mfagan publish RUN_DIR --eval DIR ... --picture FILE ...``:

1. takes the run's best-by-validation student, its discriminators and its model card;
2. scores it with ``mfagan eval``'s protocols on each ``--eval`` folder, clean (bicubic x4)
   and damaged the way real photos are (``--degrade real``), and on each ``--lr`` folder of
   inputs without ground truth (bicubic and the teacher always beside it), and judges the
   shipping goals (:data:`GOALS`) on every set: the fidelity gain everywhere, PSNR-Y against
   ground truth on clean inputs (on damaged ones the teacher restores what the ground truth
   never lost, so its PSNR is no bar);
3. renders a side-by-side picture (LR nearest | bicubic | teacher | student | HR) of the most
   detailed window of each ``--picture`` photo, which must not be a training or test image;
4. writes ``<stem>.safetensors``, ``<stem>-d.safetensors`` and ``<stem>.json`` (the run's
   card plus the evaluation, the goals and this command) into the models folder and, when
   asked, the measured table into the README between the ``student`` markers.

Nothing is written before every measurement has succeeded, and the files are written to
temporaries that replace the old ones together once all are written, so a cancelled or
failed publish (a full disk, a read-only folder) leaves the shipped student as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.distill import export, report
from engine.distill.provenance import provenance
from engine.distill.publish_table import FIDELITY_GAIN_DB, render_table
from engine.distill.validation import ValImages
from engine.errors import StorageError, UsageError
from engine.events import CancelToken, Event, Finished, Notice, Progress, result_of
from engine.files import atomic_write_bytes, staged_replace
from engine.inference.backends import TorchBackend
from engine.measure.bench_report import readme_section
from engine.measure.evaluate import (
    BICUBIC,
    DEFAULT_TEACHER,
    EvalRequest,
    damaged_lr,
    evaluate,
    image_seed,
    load_ground_truth,
    upscale_array,
)
from engine.measure.metrics import bicubic_down, bicubic_resize
from engine.models import registry
from engine.models.profiling import profile_model
from engine.paths import RESOURCES
from engine.phones.predict import predict_latency
from engine.phones.targets import latency_target

START_MARKER = "<!-- student:start -->"
END_MARKER = "<!-- student:end -->"
DEFAULT_STEM = "mfagan-x4"
SHIPPED_NAME = "mfagan"
PICTURE_CROP = 192  # HR pixels per side of each picture row (48 LR pixels)
GOALS = {
    "fidelity_gain": f"PSNR-Y(student, teacher) - PSNR-Y(bicubic, teacher) >= {FIDELITY_GAIN_DB}",
    "psnr_gt": "PSNR-Y(student, ground truth) >= PSNR-Y(teacher, ground truth), clean inputs",
}
DAMAGED_SUFFIX = " damaged"
LR_SUFFIX = " (LR as given)"


@dataclass(frozen=True, kw_only=True)
class PublishRequest:
    run_dir: Path
    datasets: tuple[Path, ...]
    pictures: tuple[Path, ...]
    degrade: tuple[str, ...] = ("bicubic", "real")
    lr_dirs: tuple[Path, ...] = ()
    models_dir: Path = RESOURCES / "models"
    stem: str = DEFAULT_STEM
    picture_out: Path | None = None
    readme: Path | None = None
    teacher: str = DEFAULT_TEACHER
    command: str = ""


@dataclass(frozen=True, kw_only=True)
class PublishResult:
    student: Path
    discriminators: Path | None
    card: Path
    picture: Path | None
    evaluation: dict[str, Any]
    goals_met: bool


def run_files(run_dir: Path) -> tuple[Path, Path | None, dict[str, Any]]:
    """The run's chosen student, its discriminators (if saved) and its card; UsageError if the
    run has not finished (the card is written at the end of a run)."""
    for name in ("student_best.safetensors", "student.safetensors"):
        student = run_dir / name
        card_path = student.with_suffix(".json")
        if student.is_file() and card_path.is_file():
            break
    else:
        raise UsageError(f"{run_dir}: no finished run (no student with its model card) here")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"{card_path}: unreadable model card ({error})") from None
    discriminators = export.discriminators_path(student)
    return student, discriminators if discriminators.is_file() else None, card


def judge(
    scores: dict[str, dict[str, Any]], student: str, teacher: str, *, clean: bool = True
) -> dict[str, Any]:
    """The goals on one eval set, from ``EvalResult.as_dict()["scores"]``; the ground-truth
    goal only on clean inputs (``None`` elsewhere)."""
    gain = scores[student]["psnr_teacher"] - scores[BICUBIC]["psnr_teacher"]
    goals: dict[str, Any] = {
        "fidelity_gain_db": round(gain, 4),
        "fidelity_gain_met": gain >= FIDELITY_GAIN_DB,
        "psnr_gt_margin_db": None,
        "psnr_gt_met": None,
    }
    if clean:
        margin = scores[student]["psnr_gt"] - scores[teacher]["psnr_gt"]
        goals |= {"psnr_gt_margin_db": round(margin, 4), "psnr_gt_met": margin >= 0}
    return goals


def _eval_sets(request: PublishRequest) -> list[tuple[str, EvalRequest]]:
    """(label, request) of every measurement: each folder under each degradation, then the
    LR-only folders."""
    sets = []
    for dataset in request.datasets:
        for degrade in request.degrade:
            label = dataset.name + ("" if degrade == "bicubic" else DAMAGED_SUFFIX)
            sets.append((label, EvalRequest(dataset=dataset, degrade=degrade)))
    for folder in request.lr_dirs:
        sets.append((folder.name + LR_SUFFIX, EvalRequest(dataset=folder, lr_only=True)))
    return sets


def detailed_window(image: np.ndarray, size: int) -> tuple[int, int]:
    """Top-left corner of the ``size`` window with the most fine detail (mean absolute
    Laplacian of luma), searched on a half-window grid; deterministic."""
    luma = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = np.abs(
        4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
    )
    height, width = luma.shape
    if height < size or width < size:
        raise UsageError(f"picture smaller than {size}x{size} pixels")
    step = max(1, size // 2)
    best, corner = -1.0, (0, 0)
    for top in range(0, height - size + 1, step):
        for left in range(0, width - size + 1, step):
            score = float(lap[top : top + size - 2, left : left + size - 2].mean())
            if score > best:
                best, corner = score, (top, left)
    return corner


def publish(request: PublishRequest, *, cancel: CancelToken | None = None) -> Iterator[Event]:
    """Measure, then write the shipped files; Finished.result is a PublishResult."""
    cancel = cancel or CancelToken()
    if not request.datasets:
        raise UsageError("give at least one --eval folder to measure the student on")
    student, discriminators, card = run_files(request.run_dir)
    evaluation: dict[str, Any] = {}
    for label, base in _eval_sets(request):
        yield Notice(message=f"evaluating on {label}")
        eval_request = dataclasses.replace(base, models=(str(student),), teacher=request.teacher)
        result = yield from result_of(evaluate(eval_request, cancel=cancel))
        scores = result.as_dict()["scores"]
        name = next(n for n in scores if n not in (BICUBIC, result.teacher))
        clean = base.degrade == "bicubic" and not base.lr_only
        evaluation[label] = {
            "images": len(result.images),
            "protocol": result.protocol,
            "bicubic": scores[BICUBIC],
            "teacher": scores[result.teacher],
            "student": scores[name],
            "goals": judge(scores, name, result.teacher, clean=clean),
        }
    rows = yield from _picture_rows(request, student, cancel)
    cancel.raise_if_cancelled()
    goals_met = all(
        e["goals"]["fidelity_gain_met"] and e["goals"]["psnr_gt_met"] is not False
        for e in evaluation.values()
    )
    written = yield from _write(request, student, discriminators, card, evaluation, rows)
    yield Finished(result=PublishResult(**written, evaluation=evaluation, goals_met=goals_met))


def _picture_rows(
    request: PublishRequest, student: Path, cancel: CancelToken
) -> Generator[Event, None, list[ValImages]]:
    if not request.pictures:
        return []
    models = [registry.get_model(request.teacher), registry.get_model(str(student))]
    backends = [TorchBackend(d) for d in models]
    rows: list[ValImages] = []
    for index, path in enumerate(request.pictures):
        yield Progress(stage="picture", done=index, total=len(request.pictures), message=path.name)
        hr = load_ground_truth(path, 4)
        try:
            top, left = detailed_window(hr, PICTURE_CROP)
        except UsageError as error:
            raise UsageError(f"{path}: {error}") from None
        hr = np.ascontiguousarray(hr[top : top + PICTURE_CROP, left : left + PICTURE_CROP])
        # Each photo twice: clean, then damaged as in the damaged protocol (same seed).
        for lr in (bicubic_down(hr, 4), damaged_lr(hr, image_seed(path), 4)):
            outputs = []
            for descriptor, backend in zip(models, backends, strict=True):
                outputs.append(
                    (yield from result_of(upscale_array(backend, lr, descriptor, cancel)))
                )
            bicubic = bicubic_resize(lr, PICTURE_CROP, PICTURE_CROP)
            teacher, student_out = outputs
            rows.append(
                ValImages(lr=lr, bicubic=bicubic, teacher=teacher, student=student_out, hr=hr)
            )
    yield Progress(stage="picture", done=len(request.pictures), total=len(request.pictures))
    return rows


def _write(
    request: PublishRequest,
    student: Path,
    discriminators: Path | None,
    card: dict[str, Any],
    evaluation: dict[str, Any],
    rows: list[ValImages],
) -> Generator[Event, None, dict[str, Any]]:
    folder = request.models_dir
    target = folder / f"{request.stem}.safetensors"
    picture = request.picture_out if rows else None
    # The teacher's graph only (meta tensors): its weights were loaded for the evaluation and
    # MACs do not depend on them.
    teacher_macs = profile_model(
        latency_target(request.teacher).module,
        height=export.PROFILE_SIDE,
        width=export.PROFILE_SIDE,
    ).macs
    student_net = export.load_student(student).eval()
    phone = predict_latency(student_net, height=export.PROFILE_SIDE, width=export.PROFILE_SIDE)
    folder.mkdir(parents=True, exist_ok=True)
    shipped = card | {
        "name": SHIPPED_NAME if request.stem == DEFAULT_STEM else request.stem,
        "predicted_latency": phone.as_dict() | {"note": "a prediction, not a measurement"},
        "weights": target.name,
        "evaluation": evaluation,
        "goals": GOALS,
        "teacher_macs": teacher_macs,
        "published": provenance(request.command, request.datasets).as_dict()
        | {
            "date": dt.date.today().isoformat(),
            "from_run": request.run_dir.name,
            "side_by_side": _relative(picture, request.readme),
        },
    }
    target_d = export.discriminators_path(target)
    card_path = target.with_suffix(".json")
    copies = {target: student.read_bytes()}
    if discriminators is not None:
        copies[target_d] = discriminators.read_bytes()
    # All or nothing: a full disk or a read-only folder met on the last file (the README)
    # must not leave new weights beside an old card, or an old table beside new weights.
    with staged_replace() as stage:
        if picture is not None:
            with _writing(picture):
                report.side_by_side(rows, stage(picture))
        for path, data in copies.items():
            with _writing(path):
                atomic_write_bytes(stage(path), data)
        with _writing(card_path):
            report.write_json(stage(card_path), shipped)
        if request.readme is not None:
            text = _with_table(request.readme, render_table(shipped))
            with _writing(request.readme):
                atomic_write_bytes(stage(request.readme), text.encode("utf-8"))
    yield Notice(message=f"published {target}")
    return {
        "student": target,
        "discriminators": target_d if discriminators is not None else None,
        "card": card_path,
        "picture": picture,
    }


def _with_table(readme: Path, table: str) -> str:
    """The README's text with ``table`` between the student markers."""
    text, start, end = readme_section(readme, start_marker=START_MARKER, end_marker=END_MARKER)
    body = table.strip("\n")
    return f"{text[: start + len(START_MARKER)]}\n{body}\n{text[end:]}"


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An OSError while ``path`` is written names it (not its hidden temporary, nor only
    the models folder): a StorageError, exit 1."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise StorageError(path, f"cannot write it ({reason[:1].lower() + reason[1:]})") from None


def _relative(picture: Path | None, readme: Path | None) -> str | None:
    """The picture as the README links it (relative to the README's folder)."""
    if picture is None:
        return None
    if readme is None:
        return picture.name
    return Path(os.path.relpath(picture.resolve(), readme.resolve().parent)).as_posix()
