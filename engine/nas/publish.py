"""``mfagan supernet publish``: measure a trained supernet and ship it with a model card.

Every number in the card is measured here: each reference subnet (engine.nas.train's
``REFERENCE_SUBNETS``) is extracted, in float32 and from float16 weights, and scored with
the ``mfagan eval`` protocol (engine.measure.evaluate) on each ``--eval`` folder. Float16 is
shipped when it halves the file and no subnet's fidelity to the teacher moves by
``FP16_TOLERANCE_DB`` or more on any folder; float32 otherwise. The card also records the
training command with its paths made portable (data folders by name, the run folder as RUN),
the data sets by name, the steps and the validation history. Files are written atomically,
after every measurement.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from engine.distill import export
from engine.distill.report import write_json
from engine.errors import UsageError
from engine.events import CancelToken, Event, Finished, Notice, result_of
from engine.files import file_sha256
from engine.measure.evaluate import DEFAULT_TEACHER, EvalRequest, evaluate
from engine.models.mfa import MFAConfig
from engine.nas.reference import reference_subnets
from engine.nas.supernet import ARCHITECTURE, Supernet, load_supernet, save_supernet
from engine.nas.train import BEST_NAME, FINAL_NAME

DEFAULT_STEM = "mfagan-supernet"
FP16_TOLERANCE_DB = 0.01


@dataclass(frozen=True, kw_only=True)
class PublishRequest:
    run_dir: Path
    datasets: tuple[Path, ...]
    models_dir: Path
    stem: str = DEFAULT_STEM
    command: str = ""


@dataclass(frozen=True, kw_only=True)
class PublishResult:
    weights: Path
    card: Path
    precision: str
    evaluation: dict[str, dict[str, Any]]


def _run_card(run_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The supernet file to ship (best by validation) and what the run recorded."""
    weights = run_dir / BEST_NAME
    if not weights.is_file():
        weights = run_dir / FINAL_NAME
    if not weights.is_file():
        raise UsageError(f"{run_dir}: no {BEST_NAME} or {FINAL_NAME} (not a supernet run?)")
    for name in ("supernet.json", "metrics.json"):
        path = run_dir / name
        if path.is_file():
            card = json.loads(path.read_text(encoding="utf-8"))
            return weights, card | {"finished": name == "supernet.json"}
    raise UsageError(f"{run_dir}: no supernet.json or metrics.json")


def portable_command(command: str, data_dirs: list[str], run_dir: Path) -> str:
    """The command with data folders as DATASETS/<name> and the run folder as RUN."""
    names = {str(Path(d)): f"DATASETS/{Path(d).name}" for d in data_dirs}
    words = []
    for word in shlex.split(command):
        path = str(Path(word)) if word else word
        if path in names:
            words.append(names[path])
        elif Path(word).expanduser().resolve() == run_dir.resolve():
            words.append("RUN")
        elif Path(word).is_absolute():
            words.append(Path(word).name)
        else:
            words.append(word)
    return shlex.join(words)


def _portable_recipe(config: dict[str, Any]) -> dict[str, Any]:
    """The run's config without machine paths: data folders by name, a teacher file by name."""
    data = config["data"] | {"dirs": [f"DATASETS/{Path(d).name}" for d in config["data"]["dirs"]]}
    teacher = config["teacher"]
    return config | {"data": data, "teacher": Path(teacher).name if "/" in teacher else teacher}


def _portable_init(init: dict[str, Any] | None) -> dict[str, Any] | None:
    """Which student the supernet started from (its own card tells that student's runs)."""
    if not init:
        return None
    return {
        k: init[k] for k in ("weights", "weights_sha256", "name", "config", "filled") if k in init
    }


def _portable_teacher(teacher: dict[str, Any]) -> dict[str, Any]:
    spec = str(teacher.get("spec", ""))
    return teacher | {"spec": Path(spec).name if "/" in spec else spec}


def _subnet_files(supernet: Supernet, folder: Path, prefix: str) -> dict[str, Path]:
    files = {}
    for name in reference_subnets(supernet.space):
        path = folder / f"{prefix}-{name}.safetensors"
        export.save_student(path, supernet.extract(MFAConfig.decode(name)))
        files[name] = path
    return files


def _measure(
    supernets: dict[str, Supernet], datasets: tuple[Path, ...], teacher: str, cancel: CancelToken
) -> Iterator[Event]:
    """{dataset: {precision: {subnet: scores}} | {bicubic, teacher}} with the eval protocol."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {p: _subnet_files(s, Path(tmp), p) for p, s in supernets.items()}
        models = tuple(str(path) for per in files.values() for path in per.values())
        for dataset in datasets:
            yield Notice(message=f"evaluating {len(models)} subnets on {dataset.name}")
            result = yield from result_of(
                evaluate(
                    EvalRequest(dataset=dataset, models=models, teacher=teacher), cancel=cancel
                )
            )
            table = result.as_dict()["scores"]
            entry: dict[str, Any] = {
                "images": len(result.images),
                "bicubic": table["bicubic"],
                "teacher": table[result.teacher],
            }
            for precision, per in files.items():
                entry[precision] = {name: table[path.stem] for name, path in per.items()}
            results[dataset.name] = entry
    return results


def _fp16_is_free(evaluation: dict[str, dict[str, Any]]) -> tuple[bool, float]:
    worst = 0.0
    for entry in evaluation.values():
        for name, scores in entry["float32"].items():
            delta = abs(scores["psnr_teacher"] - entry["float16"][name]["psnr_teacher"])
            worst = max(worst, delta)
    return worst < FP16_TOLERANCE_DB, round(worst, 4)


def publish_supernet(
    request: PublishRequest, *, cancel: CancelToken | None = None
) -> Iterator[Event]:
    """Measure, then write STEM.safetensors and STEM.json; Finished.result is a PublishResult."""
    cancel = cancel or CancelToken()
    if not request.datasets:
        raise UsageError("give at least one --eval folder (e.g. Set14)")
    source, run = _run_card(request.run_dir)
    supernet = load_supernet(source)
    with tempfile.TemporaryDirectory() as tmp:
        half_path = Path(tmp) / "half.safetensors"
        save_supernet(half_path, supernet, half=True)
        half = load_supernet(half_path)
        full_path = Path(tmp) / "full.safetensors"
        save_supernet(full_path, supernet)
        sizes = {"float32": full_path.stat().st_size, "float16": half_path.stat().st_size}
    teacher = (run.get("teacher") or {}).get("spec") or DEFAULT_TEACHER
    pair = {"float32": supernet, "float16": half}
    evaluation = yield from _measure(pair, request.datasets, teacher, cancel)
    free, worst = _fp16_is_free(evaluation)
    halves = sizes["float16"] <= 0.55 * sizes["float32"]  # the header is not halved
    precision = "float16" if free and halves else "float32"
    target = request.models_dir / f"{request.stem}.safetensors"
    save_supernet(target, supernet, half=precision == "float16")
    card = _card(request, run, source, evaluation, precision, sizes, worst)
    card |= {"weights": target.name, "weights_sha256": file_sha256(target)}
    card_path = target.with_suffix(".json")
    write_json(card_path, card)
    yield Finished(
        result=PublishResult(
            weights=target, card=card_path, precision=precision, evaluation=evaluation
        )
    )


def _card(
    request: PublishRequest,
    run: dict[str, Any],
    source: Path,
    evaluation: dict[str, dict[str, Any]],
    precision: str,
    sizes: dict[str, int],
    worst: float,
) -> dict[str, Any]:
    config = run["config"]
    data_dirs = config["data"]["dirs"]
    history = run.get("history", {})
    best = history.get("best") or {}
    return {
        "architecture": ARCHITECTURE,
        "space": config["space"],
        "precision": precision,
        "precision_choice": {
            "file_bytes": sizes,
            "worst_fp16_fidelity_change_db": worst,
            "rule": f"float16 when it halves the file and no reference subnet's fidelity "
            f"moves by {FP16_TOLERANCE_DB} dB or more",
        },
        "training": {
            "command": portable_command(run.get("command", ""), data_dirs, request.run_dir),
            "data": [Path(d).name for d in data_dirs],
            "recipe": _portable_recipe(config),
            "steps_planned": config["schedule"]["steps"],
            "steps": best.get("step"),
            "finished": run["finished"],
            "shipped": f"{source.name}: the best mean validation fidelity, at step "
            f"{best.get('step')}",
            "seconds_per_step": run.get("seconds_per_step"),
            "data_counts": run.get("data"),
            "validation": history.get("validation", []),
        },
        "teacher": _portable_teacher(run.get("teacher") or {}),
        "init": _portable_init(run.get("init")),
        "reference_subnets": list(evaluation[next(iter(evaluation))]["float32"]),
        "evaluation": {
            name: {
                "protocol": "mfagan eval: modcrop 4, PIL bicubic down x4, 8-bit, Y, shave 4",
                "images": entry["images"],
                "bicubic": entry["bicubic"],
                "teacher": entry["teacher"],
                "subnets": entry[precision],
                "subnets_float32": entry["float32"],
            }
            for name, entry in evaluation.items()
        },
        "published": {
            "command": portable_command(
                request.command, [str(d) for d in request.datasets], request.run_dir
            ),
            "date": datetime.now(UTC).date().isoformat(),
            "torch": torch.__version__,
        },
    }
