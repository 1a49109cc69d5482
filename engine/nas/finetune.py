"""Turn a subnet of the supernet into a trained user model: extract, distil (G + D), evaluate.

The entry point for ``mfagan search --finetune`` and the app's wizard::

    finetune_subnet(supernet_path, config, steps=..., data=[...], out=run_dir, name="my-model",
                    search={...}, eval_datasets=[...], cancel=token)

is a generator of progress events (engine.distill's TrainStep, Progress, Notice) whose
``Finished.result`` is a :class:`FinetuneResult`. It

1. loads the supernet (``None``: the shipped ``resources/models/mfagan-supernet.safetensors``),
   extracts ``config`` and writes it to ``out/subnet_init.safetensors`` with a card naming
   the supernet file and its SHA-256;
2. runs the full distillation of engine.distill (teacher D pre-training, warm-up, then the GAN
   stage with the student discriminator distilled from the teacher D) starting from it. Data
   settings, degradations and seed are the supernet's training recipe (read from the card
   beside the supernet, or from the run folder it lies in), so the crops are the ones the
   supernet learnt from; only ``data`` folders change, and the teacher's outputs are
   taken in context (``FINE_TUNE_CONTEXT`` LR pixels around each crop, as the shipped
   student learnt): the subnet is scored, and used, on whole photos, where the teacher
   draws differently from a crop alone. The feature loss maps the
   subnet's middle and last blocks onto teacher RRDB blocks 11 and 22 whatever its depth,
   the blocks that cache holds;
3. scores the best student with the ``mfagan eval`` protocol on each of ``eval_datasets``;
4. registers it as user model ``name`` (``data_dir()/models``): its card is the distillation
   card plus ``nas`` (supernet file and digest, config, and the caller's ``search`` dict:
   search settings, budget, device, predicted latencies...) and ``evaluation``.

``resume=True`` continues an interrupted run in ``out`` (the distillation checkpoint), or a
finished one to more ``steps``: the run keeps the schedule it started with (stage boundaries,
rates, intervals) and only its total grows, so the cosine learning rate is stretched over the
new total (see :func:`continued_schedule`).
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.distill import export
from engine.distill.checkpoint import CHECKPOINT_NAME
from engine.distill.config import ScheduleConfig, config_from_dict
from engine.distill.fine_tune import FINE_TUNE_CONTEXT
from engine.distill.report import write_json
from engine.distill.trainer import DistillRequest, DistillResult, TrainStep, distill
from engine.errors import UsageError
from engine.events import CancelToken, Event, Finished, Notice, result_of
from engine.files import file_sha256
from engine.measure.evaluate import EvalRequest, evaluate
from engine.models.mfa import MFAConfig
from engine.nas.supernet import SHIPPED_SUPERNET, Supernet, load_supernet
from engine.paths import RESOURCES

RECIPE = RESOURCES / "training" / "mfagan-supernet.toml"
INIT_NAME = "subnet_init.safetensors"


@dataclass(frozen=True, kw_only=True)
class FinetuneResult:
    model: Path | None  # the registered user model (None when name is None)
    student: Path  # the best student in ``out``
    card: dict[str, Any]
    distill: DistillResult
    evaluation: dict[str, dict[str, Any]]


def feature_pairs_for(
    config: MFAConfig, recipe_pairs: Sequence[Sequence[int]]
) -> tuple[tuple[int, int], ...]:
    """The subnet's middle and last blocks -> the two teacher blocks of the supernet recipe
    (the features its cache holds); () (automatic pairs) when it does not name two."""
    teacher_blocks = sorted({int(t) for _, t in recipe_pairs})
    if len(teacher_blocks) != 2:
        return ()
    middle = max(0, config.num_blocks // 2 - 1)
    return ((middle, teacher_blocks[0]), (config.num_blocks - 1, teacher_blocks[1]))


def default_schedule(steps: int) -> ScheduleConfig:
    """10 % teacher-D pre-training, 60 % warm-up, the last 30 % with the GAN terms; cosine."""
    return ScheduleConfig(
        steps=steps,
        teacher_d_steps=steps // 10,
        warmup_steps=steps * 6 // 10,
        batch_size=8,
        lr_g=1e-4,
        lr_d=1e-4,
        lr_schedule="cosine",
        val_every=max(1, min(500, steps // 2)),
        checkpoint_every=min(100, max(5, steps // 10)),
    )


def continued_schedule(out: Path, steps: int) -> ScheduleConfig | None:
    """The schedule of the run in ``out`` with ``steps`` in all; None when it has no readable
    checkpoint (the trainer then says why, or starts afresh).

    ``default_schedule(steps)`` would move the stage boundaries and intervals with the new
    total, and a checkpoint refuses a run whose schedule changed in more than its steps. Kept
    as they were, a longer run adds GAN-stage steps, and its cosine rate, a pure function of
    the step and the total, is stretched to end at the new total: the rate rises from the
    finished run's floor to the longer curve's value at that step (20 -> 30 steps: from 1 % to
    29 % of the base rate) and anneals to the floor again, a warm restart.
    """
    try:
        state = torch.load(out / CHECKPOINT_NAME, map_location="cpu", weights_only=True)
        schedule = config_from_dict(state["config"]).schedule
    except (OSError, RuntimeError, EOFError, KeyError, TypeError, ValueError, UsageError,
            pickle.UnpicklingError):  # fmt: skip
        return None
    return dataclasses.replace(schedule, steps=steps)


def _recipe(supernet_path: Path) -> dict[str, Any]:
    """The supernet's training config (card beside it, its run folder, or the shipped recipe)."""
    for card_path, key in (
        (supernet_path.with_suffix(".json"), ("training", "recipe")),
        (supernet_path.parent / "supernet.json", ("config",)),
        (supernet_path.parent / "metrics.json", ("config",)),
    ):
        try:
            value: Any = json.loads(card_path.read_text(encoding="utf-8"))
            for part in key:
                value = value[part]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return value
    from engine.nas.train_config import load_supernet_config, supernet_config_to_dict

    return supernet_config_to_dict(load_supernet_config(RECIPE))


def finetune_config(
    supernet_path: Path,
    config: MFAConfig,
    *,
    steps: int,
    data: Sequence[Path],
    init: Path,
):
    """The DistillConfig of the fine-tuning run (see the module docstring)."""
    recipe = {k: v for k, v in _recipe(supernet_path).items() if k not in ("supernet", "space")}
    recipe["data"] = recipe["data"] | {
        "dirs": [str(d) for d in data],
        "teacher_context": FINE_TUNE_CONTEXT,
    }
    pairs = feature_pairs_for(config, recipe.get("feature_pairs") or ())
    base = config_from_dict(recipe | {"student": config.encode(), "feature_pairs": []})
    return dataclasses.replace(
        base,
        student=config,
        init=str(init),
        feature_pairs=pairs,
        losses=dataclasses.replace(base.losses, feat=base.losses.feat or 0.1),
        schedule=default_schedule(steps),
    )


def finetune_subnet(
    supernet_path: Path | None,
    config: MFAConfig,
    *,
    steps: int,
    data: Sequence[Path],
    out: Path,
    name: str | None = None,
    search: dict[str, Any] | None = None,
    eval_datasets: Sequence[Path] = (),
    resume: bool = False,
    command: str = "",
    cancel: CancelToken | None = None,
) -> Iterator[Event | TrainStep]:
    """Extract ``config``, distil it for ``steps``, evaluate, register as ``name``."""
    cancel = cancel or CancelToken()
    if steps < 1:
        raise UsageError("fine-tuning needs at least 1 step")
    if name is not None:
        export.check_model_name(name)
    source = supernet_path or SHIPPED_SUPERNET
    supernet = load_supernet(source)
    supernet.space.check(config)
    nas = _lineage(source, config, search)
    init = _write_init(supernet, config, nas, out, resume=resume)
    distill_config = finetune_config(source, config, steps=steps, data=data, init=init)
    schedule = continued_schedule(out, steps) if resume else None
    if schedule is not None:
        distill_config = dataclasses.replace(distill_config, schedule=schedule)
    request = DistillRequest(config=distill_config, out_dir=out, resume=resume, command=command)
    result: DistillResult = yield from result_of(distill(request, cancel=cancel))
    student = result.best or result.student
    evaluation = yield from _evaluate(
        student, config.encode(), eval_datasets, distill_config.teacher, cancel
    )
    card = _card(student) | {"nas": nas, "evaluation": evaluation}
    write_json(student.with_suffix(".json"), card)
    model = export.register_user_model(name, student, card) if name else None
    yield Finished(
        result=FinetuneResult(
            model=model, student=student, card=card, distill=result, evaluation=evaluation
        )
    )


def _lineage(source: Path, config: MFAConfig, search: dict[str, Any] | None) -> dict[str, Any]:
    """The card's ``nas`` entry: the supernet file and digest, the subnet, the search."""
    return {
        "supernet": source.name,
        "supernet_sha256": file_sha256(source),
        "config": config.encode(),
        "search": search or {},
    }


def _write_init(
    supernet: Supernet, config: MFAConfig, nas: dict[str, Any], out: Path, *, resume: bool
) -> Path:
    """``out/subnet_init.safetensors``: the subnet as extracted, with a card naming its
    supernet; a resumed run keeps the one it started from."""
    init = out / INIT_NAME
    if not (resume and init.is_file()):
        out.mkdir(parents=True, exist_ok=True)
        export.save_student(init, supernet.extract(config))
        write_json(
            init.with_suffix(".json"),
            {"name": "supernet subnet", "config": config.encode(), "training": nas},
        )
    return init


def _evaluate(
    student: Path, label: str, datasets: Sequence[Path], teacher: str, cancel: CancelToken
) -> Iterator[Event]:
    """The ``mfagan eval`` protocol on each dataset: dataset name -> scores (yield from)."""
    evaluation = {}
    for dataset in datasets:
        yield Notice(message=f"evaluating {label} on {dataset.name}")
        request = EvalRequest(dataset=dataset, models=(str(student),), teacher=teacher)
        scores = yield from result_of(evaluate(request, cancel=cancel))
        table = scores.as_dict()["scores"]
        evaluation[dataset.name] = {
            "images": len(scores.images),
            "student": table[student.stem],
            "bicubic": table["bicubic"],
            "teacher": table[scores.teacher],
        }
    return evaluation


def _card(student: Path) -> dict[str, Any]:
    try:
        return json.loads(student.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
