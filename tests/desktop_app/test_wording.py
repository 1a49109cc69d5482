"""The engine's command-line hints in the window's words (issue 21.8), and counts (21.12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app import jobs
from desktop_app.phone.context import PHONE_HINTS
from desktop_app.wording import (
    FIRST_USE_STAGE,
    count,
    first_upper,
    in_gui_words,
    tile_choice_words,
)
from desktop_app.workers import JobRunner
from engine.distill.checkpoint import CHECKPOINT_NAME, open_run
from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Notice, Progress, TileChoice
from engine.inference import tile_memory
from engine.inference.batch import BatchRequest
from engine.inference.outputs import output_problem
from engine.inference.upscale import TargetSize, Upscaler
from engine.models.registry import get_model
from engine.phones.adb import detect_phone
from tests.desktop_app.helpers import FAST_MODEL, WAIT_MS, save_photo


def _engine_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Real messages of the engine that reach the window, made by the engine itself."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    no_adb = detect_phone().message
    run = tmp_path / "run"
    run.mkdir()
    (run / CHECKPOINT_NAME).write_bytes(b"")
    with pytest.raises(UsageError) as taken:
        next(open_run(run, resume=False, config={}, main=True))
    with pytest.raises(UsageError) as empty:
        next(open_run(run, resume=True, config={}, main=False))
    existing = tmp_path / "a_x4.png"
    existing.write_bytes(b"x")
    return [
        no_adb,
        str(taken.value),
        str(empty.value),
        str(output_problem(existing)),
        "--tile 512 needs about 3.1 GiB, more than the 1.0 GiB this computer can spare",
        "x.onnx: onnxruntime cannot open this model's export (bad file); use --backend torch",
        "stopped at step 12; resume with --resume",
    ]


def test_no_engine_hint_reaches_the_window_as_a_flag(tmp_path: Path, monkeypatch) -> None:
    messages = _engine_messages(tmp_path, monkeypatch)
    assert all("--" in m for m in messages)  # each really is a command-line hint
    said = [in_gui_words(m) for m in messages]
    assert not [s for s in said if "--" in s], said
    no_adb, taken, empty, exists, tile, backend, stopped = said
    assert "pick the closest profile in the list instead" in no_adb
    assert "Resume continues it, or choose another name" in taken
    assert "start a new run under another name" in empty
    assert "Skip images whose result already exists" in exists
    assert tile.startswith("a tile size of 512 px needs about")
    assert backend.endswith("choose PyTorch as the Backend (under Advanced)")
    assert stopped == "stopped at step 12; Resume continues from there"
    # A flag the window has no hint for is still not shown as one.
    assert in_gui_words("give at least one --eval folder") == "give at least one “eval” folder"
    assert in_gui_words("a photo-to-photo step") == "a photo-to-photo step"


def test_a_page_names_what_a_flag_means_on_it(qtbot, tmp_path: Path) -> None:
    reason = (
        f"{tmp_path}/checkpoint.pt: the checkpoint was made with a different config (differs "
        "in: data); use another --out folder or the same settings"
    )

    def failing(_cancel):
        raise UsageError(reason)
        yield

    said: list[str] = []
    runner = JobRunner()
    runner.start(failing, name="test", hints=PHONE_HINTS, on_failed=said.append)
    qtbot.waitUntil(lambda: len(said) == 1, timeout=WAIT_MS)
    assert said[0].endswith("or pick another network in step 3") and "--" not in said[0]
    runner.start(failing, name="test", on_failed=said.append)
    qtbot.waitUntil(lambda: len(said) == 2, timeout=WAIT_MS)
    assert said[1].endswith("or start a new run under another name")


def test_cancel_message_loses_its_flag(qtbot) -> None:
    def stopped(_cancel):
        raise Cancelled("stopped at step 3; resume with --resume")
        yield

    said: list[str] = []
    JobRunner().start(stopped, name="test", on_cancelled=said.append)
    qtbot.waitUntil(lambda: bool(said), timeout=WAIT_MS)
    assert said == ["stopped at step 3; Resume continues from there"]


def test_count_says_one_thing_and_many_things() -> None:
    assert count(1, "step") == "1 step"
    assert count(0, "step") == "0 steps"
    assert count(20, "step") == "20 steps"
    assert count(2, "copy", "copies") == "2 copies"


# ---- an upscale's progress in the window's words --------------------------------------------


def _drain(events) -> tuple[list, object]:
    """Every event of a generator, and what it returned."""
    seen = []
    while True:
        try:
            seen.append(next(events))
        except StopIteration as stop:
            return seen, stop.value


def _stages(events: list) -> list[str]:
    return [e.stage for e in events if isinstance(e, Progress)]


@pytest.mark.parametrize("backend", ["onnx", "auto"])
def test_a_models_first_use_is_said_to_be_a_one_time_preparation(
    tmp_path: Path, monkeypatch, backend: str
) -> None:
    # "Loading the model" for a minute on a model's first use (issue: the ONNX export and
    # the runtime timing), never saying that later runs skip it.
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))  # nothing made yet
    choice = jobs.ModelChoice(spec=FAST_MODEL, backend=backend)  # type: ignore[arg-type]
    first, upscaler = _drain(jobs.UpscalerPool().prepared(choice))
    assert _stages(first) == [FIRST_USE_STAGE, FIRST_USE_STAGE]
    assert isinstance(upscaler, Upscaler)
    assert first_upper(FIRST_USE_STAGE) == "Preparing the model for this computer (first use only)"
    # The next session (a new pool) finds it all cached: the model only loads.
    again, _ = _drain(jobs.UpscalerPool().prepared(choice))
    assert _stages(again) == ["load model", "load model"]
    # PyTorch makes nothing first.
    torch_choice = jobs.ModelChoice(spec=FAST_MODEL, backend="torch")
    assert not jobs.needs_first_use(Upscaler(get_model(FAST_MODEL), backend="torch"))
    assert _stages(_drain(jobs.UpscalerPool().prepared(torch_choice))[0])[0] == "load model"


def test_the_batch_page_is_told_of_a_first_use_in_the_status_line(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    choice = jobs.ModelChoice(spec=FAST_MODEL, backend="onnx")
    events, upscaler = _drain(jobs.first_use_told(jobs.UpscalerPool().prepared(choice)))
    said = [e.message for e in events if isinstance(e, Notice)]
    assert said == ["Preparing the model for this computer (first use only)"]
    assert isinstance(upscaler, Upscaler)
    events, _ = _drain(jobs.first_use_told(jobs.UpscalerPool().prepared(choice)))
    assert not [e for e in events if isinstance(e, Notice)]  # cached now: nothing to say


def _tiny_esrgan(path: Path) -> Path:
    """An ESRGAN-family .pth, tiny and random: an AI model that runs in moments."""
    import torch

    from engine.models.rrdbnet import RRDBNet, RRDBNetConfig

    torch.manual_seed(0)
    torch.save(RRDBNet(RRDBNetConfig(num_block=1, num_feat=8)).state_dict(), path)
    return path


def _upscale_events(photo: Path, spec: str, tmp_path: Path) -> list:
    request = jobs.UpscaleRequest(
        source=photo,
        model=jobs.ModelChoice(spec=spec, backend="torch"),
        target=TargetSize(scale=4),
        stage_dir=tmp_path / "stage",
    )
    return list(jobs.upscale_job(request, jobs.UpscalerPool(), CancelToken()))


def _notices(events: list) -> list[str]:
    return [e.message for e in events if isinstance(e, Notice)]


def test_the_tile_size_is_said_only_where_a_photo_is_done_piece_by_piece(
    tmp_path: Path, monkeypatch
) -> None:
    # "upscaling piece by piece (512 px squares)" for a photo of one tile, and the CLI's
    # "tile size auto: 512 (budget 10.7 GiB, ...)" on the Batch page's status line.
    photo = save_photo(tmp_path / "photo.png", box=(48, 64))
    model = str(_tiny_esrgan(tmp_path / "tiny.pth"))
    events = _upscale_events(photo, model, tmp_path)
    assert not [e for e in events if isinstance(e, TileChoice)]
    assert not _notices(events), "one tile: nothing to say about pieces"
    # Little memory to spare: small tiles, said in words, never the budget behind them.
    monkeypatch.setattr(tile_memory, "default_budget_bytes", lambda reserved=0: 1)
    events = _upscale_events(photo, model, tmp_path)
    pieces = [m for m in _notices(events) if "piece" in m]
    assert pieces == [tile_choice_words(tile_memory.MIN_TILE)]
    assert not [m for m in _notices(events) if "GiB" in m or "budget" in m]
    # Plain enlarge is no AI: how it divides the photo is not worth a word.
    assert not [m for m in _notices(_upscale_events(photo, FAST_MODEL, tmp_path)) if "piece" in m]


def test_a_batch_says_the_tile_size_in_words(tmp_path: Path, monkeypatch) -> None:
    source = tmp_path / "in"
    save_photo(source / "a.png", box=(48, 64))
    model = str(_tiny_esrgan(tmp_path / "tiny.pth"))
    monkeypatch.setattr(tile_memory, "default_budget_bytes", lambda reserved=0: 1)
    request = BatchRequest(input_dir=source, output_dir=tmp_path / "out")
    choice = jobs.ModelChoice(spec=model, backend="torch")
    events = list(jobs.batch_job(request, choice, jobs.UpscalerPool(), CancelToken()))
    assert not [e for e in events if isinstance(e, TileChoice)]
    said = _notices(events)
    assert tile_choice_words(tile_memory.MIN_TILE) in said
    assert not [m for m in said if "tile size auto" in m or "GiB" in m], said


def test_the_upscale_page_says_a_first_use_is_a_one_time_preparation(
    qtbot, window, photo: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))  # a new computer
    # Exported here, on this thread (see conftest's bicubic_onnx_exported): the window's
    # job is left the runtimes' timing, still a first use on this computer.
    for _ in Upscaler(get_model(FAST_MODEL), backend="onnx").prepare():
        pass
    work = window.upscale.work
    lines: list[str] = []
    work.progress.connect(lambda line: lines.append(line.text))
    with qtbot.waitSignal(work.resultReady, timeout=WAIT_MS):
        window.open_paths([photo])
        work.enqueue([photo])
    assert "Preparing the model for this computer (first use only)" in lines
    assert "Loading the model" not in lines
