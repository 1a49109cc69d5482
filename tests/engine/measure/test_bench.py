"""The bench on tiny stand-in models: events, ratios, goals, table and README update.

The real bench (teacher on a 512x512 photo) takes many minutes; it is run by `make bench`,
never by the test suite.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import NearestX4, make_descriptor
from torch import nn

from engine.errors import UsageError
from engine.events import Cancelled, CancelToken, Finished, Notice, Progress
from engine.measure.bench import (
    BenchResult,
    BenchSettings,
    load_photo,
    peak_rss_bytes,
    render_table,
    reset_peak_rss,
    resolve_model,
    run_bench,
    update_readme,
)
from engine.measure.bench_photo import PhotoRun, make_phone_photo, run_photo
from engine.measure.bench_report import END_MARKER, START_MARKER, photo_line
from engine.models.mfa import LARGEST_CONFIG, MFAGenerator
from engine.models.profiling import profile_model
from engine.paths import RESOURCES


def _big() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 48, 3, padding=1), nn.Conv2d(48, 48, 3, padding=1), nn.PixelShuffle(4)
    )


def _small() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 48, 1), nn.PixelShuffle(4))


def _resolver(**modules: nn.Module):
    descriptors = {name: make_descriptor(module, name=name) for name, module in modules.items()}
    return descriptors.__getitem__


SETTINGS = BenchSettings(
    models=("big", "small", "nearest"),
    reference="big",
    goal_model="small",
    profile_sizes=(8, 16),
    time_size=24,
    backends=("torch",),
    repeats=2,
    reference_repeats=1,
    tile=16,
    overlap=4,
    photo=None,
)


def _run(settings: BenchSettings, resolve, cancel: CancelToken | None = None) -> list:
    return list(run_bench(settings, resolve=resolve, cancel=cancel))


@pytest.fixture(scope="module")
def bench_events() -> list:
    return _run(SETTINGS, _resolver(big=_big(), small=_small(), nearest=NearestX4()))


def test_events_end_with_the_result(bench_events: list) -> None:
    assert isinstance(bench_events[-1], Finished)
    assert all(not isinstance(e, Finished) for e in bench_events[:-1])
    profile = [e for e in bench_events if isinstance(e, Progress) and e.stage == "profile"]
    assert [(e.done, e.total) for e in profile] == [(i, 6) for i in range(7)]
    timed = [e for e in bench_events if isinstance(e, Progress) and e.stage == "time"]
    # big once, small and nearest twice each.
    assert [e.done for e in timed] == [0, 1, 2, 3, 4, 5] and timed[-1].total == 5


def test_costs_ratios_and_goals(bench_events: list) -> None:
    result: BenchResult = bench_events[-1].result
    big, small = result.model("big"), result.model("small")
    assert big is not None and small is not None
    assert small.cost_at(16) == profile_model(_small(), height=16, width=16)
    expected = (3 * 48 * 9 + 48 * 48 * 9) / (3 * 48)
    assert result.cost_ratio("small", "macs", 16) == pytest.approx(expected)
    assert result.cost_ratio("nearest", "macs", 16) is None  # 0 MACs: no finite ratio
    assert [(g.metric, g.lr_size) for g in result.goals] == [
        (metric, size)
        for size in (8, 16)
        for metric in ("macs", "memory_access_bytes", "peak_activation_bytes")
    ]
    macs_goal = result.goals[0]
    assert macs_goal.ratio == pytest.approx(expected) and macs_goal.passed
    assert result.goals_passed == all(g.passed for g in result.goals)


def test_timings(bench_events: list) -> None:
    result: BenchResult = bench_events[-1].result
    for name, runs in (("big", 1), ("small", 2), ("nearest", 2)):
        model = result.model(name)
        assert model is not None
        (timing,) = model.timings
        assert timing.backend == "torch" and len(timing.runs_s) == runs
        assert timing.median_s is not None and timing.median_s > 0
        if timing.start_rss_bytes is not None:  # Linux: measured
            assert timing.peak_rss_bytes is not None
            assert timing.peak_rss_bytes >= timing.start_rss_bytes > 0
    assert result.speedup("big", "torch") == pytest.approx(1.0)


def test_table_and_json(bench_events: list) -> None:
    result: BenchResult = bench_events[-1].result
    table = render_table(result)
    assert "| small | 16x16 | 192 | 36.86 k |" in table
    assert "| big | 16x16 | 22.13 k | 5.64 M |" in table
    assert "- MACs ratio >= 50x: 153x at 8x8, 153x at 16x16: **pass**" in table
    assert "median of 2 runs, big: 1 run; 16 px tiles, 4 px overlap" in table
    data = json.loads(json.dumps(result.as_dict()))
    assert [m["name"] for m in data["models"]] == ["big", "small", "nearest"]
    assert data["models"][1]["costs"][1]["macs"] == 16 * 16 * 3 * 48


def test_backend_that_cannot_run_is_reported() -> None:
    descriptor = dataclasses.replace(make_descriptor(_small(), name="small"), onnx_exportable=False)
    settings = dataclasses.replace(
        SETTINGS, models=("small",), reference="small", backends=("onnx",), profile_sizes=(8,)
    )
    events = _run(settings, {"small": descriptor}.__getitem__)
    assert any(isinstance(e, Notice) and "no onnx timing" in e.message for e in events)
    result: BenchResult = events[-1].result
    (timing,) = result.models[0].timings
    assert timing.runs_s == () and "cannot be exported" in timing.error
    assert "| small | fails |" in render_table(result)


def test_cancel_stops_the_bench() -> None:
    cancel = CancelToken()
    resolve = _resolver(big=_big(), small=_small(), nearest=NearestX4())
    events = run_bench(SETTINGS, resolve=resolve, cancel=cancel)
    assert isinstance(next(events), Progress)
    cancel.cancel()
    with pytest.raises(Cancelled):
        list(events)


def test_update_readme_replaces_only_the_section(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n{START_MARKER}\nold table\n{END_MARKER}\nafter\n")
    update_readme(readme, "| a | b |\n")
    expected = f"# Title\n\nintro\n{START_MARKER}\n| a | b |\n{END_MARKER}\nafter\n"
    assert readme.read_text() == expected
    update_readme(readme, "| a | b |\n")
    assert readme.read_text() == expected
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


def test_update_readme_without_markers_leaves_the_file_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n{END_MARKER}\n{START_MARKER}\n")
    with pytest.raises(UsageError, match="bench:start"):
        update_readme(readme, "| a |\n")
    assert readme.read_text() == f"# Title\n{END_MARKER}\n{START_MARKER}\n"


def test_photo_is_a_centre_crop() -> None:
    photo = load_photo(RESOURCES / "samples" / "astronaut.png", 32)
    with Image.open(RESOURCES / "samples" / "astronaut.png") as image:
        full = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    top = (full.shape[0] - 32) // 2
    left = (full.shape[1] - 32) // 2
    assert photo.shape == (1, 3, 32, 32) and photo.dtype == np.float32
    np.testing.assert_array_equal(
        photo[0].transpose(1, 2, 0), full[top : top + 32, left : left + 32]
    )


def test_peak_rss_resets() -> None:
    if not reset_peak_rss():
        pytest.skip("this OS cannot reset the peak RSS")
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    high = peak_rss_bytes()
    del block
    reset_peak_rss()
    low = peak_rss_bytes()
    assert high is not None and low is not None
    assert high - low >= 60 * 2**20


def test_default_models_resolve_without_loading() -> None:
    names = [resolve_model(name).name for name in BenchSettings().models]
    largest = f"mfagan:{LARGEST_CONFIG.encode()}"
    assert names == ["realesrgan-x4plus", largest, "mfagan", "bicubic"]
    descriptor = resolve_model(largest)
    assert descriptor.config == LARGEST_CONFIG and not descriptor.trained
    net = descriptor.load()
    assert isinstance(net, MFAGenerator) and net.config == LARGEST_CONFIG
    assert descriptor.weights_id() != resolve_model("mfagan").weights_id()
    with pytest.raises(UsageError):
        resolve_model("mfagan:b99")


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        BenchSettings(models=())
    with pytest.raises(ValueError):
        BenchSettings(repeats=0)
    quick = BenchSettings.quick()
    assert quick.models == BenchSettings().models and quick.repeats == 1


def test_a_phone_photo_is_upscaled_by_the_command_in_a_child_process() -> None:
    events = []
    runner = run_photo(size=(48, 36), model="mfagan", scale=4)
    try:
        while True:
            events.append(next(runner))
    except StopIteration as stop:
        run = stop.value
    assert all(isinstance(e, Progress) and e.stage == "photo" for e in events)
    assert run.error == "" and run.output_size == (192, 144) and run.format == "PNG"
    assert run.seconds is not None and run.seconds > 0
    assert run.peak_rss_bytes is not None and run.peak_rss_bytes > 50 * 2**20  # Python + torch
    # The child ran --backend auto; the runtime it picked is read back from auto's cache.
    assert run.backend == "auto" and run.runtime in ("onnx", "openvino-fp32", "openvino-bf16")
    line = photo_line(run)
    assert line.startswith(
        "**A phone photo, 48x36 (0 MP) to 192x144 PNG** "
        "(`mfagan upscale photo.jpg -o out.png --backend auto`,"
    )
    pattern = rf"{run.seconds:.1f} s on {run.runtime} \(auto\), peak RSS \d+\.\d\d (MiB|GiB)\.$"
    assert re.search(pattern, line)


def test_a_failed_photo_run_says_why() -> None:
    run = PhotoRun(
        size=(4000, 3000), output_size=(16000, 12000), format="PNG", model="x", error="no memory"
    )
    assert photo_line(run).endswith("fails (no memory).")
    assert run.as_dict()["command"] == "mfagan upscale photo.jpg -o out.png --backend auto"


def test_the_photo_line_says_which_runtime_ran() -> None:
    done = dict(size=(4000, 3000), output_size=(16000, 12000), format="PNG", model="mfagan")
    run = PhotoRun(**done, seconds=61.25, peak_rss_bytes=2**30, runtime="openvino-bf16")
    assert photo_line(run).endswith(": 61.2 s on openvino-bf16 (auto), peak RSS 1.00 GiB.")
    assert run.as_dict()["runtime"] == "openvino-bf16" and run.as_dict()["backend"] == "auto"
    unknown = PhotoRun(**done, seconds=61.25, peak_rss_bytes=2**30)
    assert ": 61.2 s on auto's pick, peak RSS" in photo_line(unknown)
    forced = PhotoRun(**done, seconds=61.25, backend="onnx", runtime="onnx")
    assert photo_line(forced).endswith(": 61.2 s on onnx, peak RSS n/a.")
    assert "--backend onnx" in forced.command


def test_the_time_table_has_a_column_for_the_runtime_auto_picked() -> None:
    from engine.measure.bench_result import ModelBench, Timing

    settings = dataclasses.replace(SETTINGS, backends=("onnx", "openvino", "auto"))
    timings = {
        "big": (
            Timing(backend="onnx", runs_s=(2.0,), runtime="onnx"),
            Timing(backend="openvino", runs_s=(1.0,), runtime="openvino-bf16"),
            Timing(backend="auto", runs_s=(1.0,), runtime="openvino-bf16 (auto)"),
        ),
        "small": (
            Timing(backend="onnx", runs_s=(0.5,), runtime="onnx"),
            Timing(backend="auto", error="no runtime can run it here"),
        ),
        "nearest": (Timing(backend="onnx", runs_s=(0.1,), runtime="onnx"),),
    }
    result = BenchResult(
        settings=settings,
        machine="test",
        date="2026-12-07",
        models=tuple(
            ModelBench(name=name, title=name, config="", costs=(), timings=timings[name])
            for name in ("big", "small", "nearest")
        ),
    )
    lines = render_table(result).splitlines()
    head = next(line for line in lines if line.startswith("| model | auto runtime |"))
    assert head.startswith("| model | auto runtime | onnxruntime (s) | OpenVINO (s) | auto (s) |")
    assert lines[lines.index(head) + 2].startswith("| big | openvino-bf16 | 2.00 | 1.00 | 1.00 |")
    assert any(line.startswith("| small | fails | 0.50 | n/a | fails |") for line in lines)
    assert any(line.startswith("| nearest | – | 0.10 | n/a | n/a |") for line in lines)
    torch_only = render_table(dataclasses.replace(result, settings=SETTINGS))
    assert "auto runtime" not in torch_only


def test_the_phone_photo_is_made_from_the_samples(tmp_path: Path) -> None:
    path = make_phone_photo(tmp_path / "p.jpg", (401, 299))
    with Image.open(path) as photo:
        assert (photo.format, photo.size) == ("JPEG", (401, 299))
        assert np.asarray(photo).std() > 20  # real photo content, not a flat colour


def test_every_runtime_and_the_auto_pick_are_timed_in_one_run() -> None:
    settings = dataclasses.replace(
        SETTINGS, models=("big", "small"), backends=("onnx", "openvino", "auto"), repeats=1
    )
    result: BenchResult = _run(settings, _resolver(big=_big(), small=_small()))[-1].result
    small = result.model("small")
    assert small is not None
    assert [t.backend for t in small.timings] == ["onnx", "openvino", "auto"]
    auto = small.timing("auto")
    assert auto is not None and auto.runtime.endswith("(auto)") and auto.median_s
    assert small.timing("openvino").runtime.startswith("openvino-")
    table = render_table(result)
    assert "| OpenVINO (s) |" in table.replace("| OpenVINO (s)", "| OpenVINO (s) |", 1)
    assert f"small ran openvino: {small.timing('openvino').runtime}, auto: {auto.runtime}" in table
    assert "x onnxruntime's speed" in table
    data = json.loads(json.dumps(result.as_dict()))
    assert data["models"][1]["timings"][2]["runtime"] == auto.runtime


def _fake_photo_runs(monkeypatch, asked: list[str], **per_backend: dict):
    """run_photo replaced: no child, no upscaling; ``per_backend`` sets each PhotoRun's
    fields (default: 3 s, 1 MiB on openvino-fp32)."""
    from engine.measure import bench

    def fake_photo(*, size, model, scale, backend="onnx", cancel=None):
        asked.append(backend)
        out = (size[0] * scale, size[1] * scale)
        fields = dict(seconds=3.0, peak_rss_bytes=2**20, runtime="openvino-fp32")
        fields |= per_backend.get(backend, {})
        return PhotoRun(size=size, output_size=out, format="PNG", model=model, backend=backend,
                        **fields)  # fmt: skip
        yield

    monkeypatch.setattr(bench, "run_photo", fake_photo)


def _photo_bench(settings: BenchSettings) -> list:
    return _run(settings, _resolver(big=_big(), small=_small(), nearest=NearestX4()))


def test_the_bench_runs_the_phone_photo_on_auto_and_says_on_what(monkeypatch) -> None:
    asked: list[str] = []
    _fake_photo_runs(monkeypatch, asked)
    settings = dataclasses.replace(SETTINGS, time_size=None, photo=(40, 30))
    events = _photo_bench(settings)
    assert asked == ["onnx", "auto"]
    assert any(
        isinstance(e, Notice) and e.message == "phone photo: 3.0 s on openvino-fp32 (auto)"
        for e in events
    )
    assert "3.0 s on openvino-fp32 (auto), peak RSS 1.00 MiB" in render_table(events[-1].result)


def test_the_phone_photo_runs_on_onnxruntime_then_auto_and_both_are_reported(monkeypatch) -> None:
    asked: list[str] = []
    onnx = dict(seconds=10.0, peak_rss_bytes=2 * 2**30, runtime="onnx")
    auto = dict(seconds=4.0, peak_rss_bytes=2**30, runtime="openvino-bf16")
    _fake_photo_runs(monkeypatch, asked, onnx=onnx, auto=auto)
    settings = dataclasses.replace(SETTINGS, time_size=None, photo=(40, 30))
    events = _photo_bench(settings)
    assert asked == ["onnx", "auto"]
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert "phone photo: 10.0 s on onnx" in notices
    assert "phone photo: 4.0 s on openvino-bf16 (auto)" in notices
    result: BenchResult = events[-1].result
    assert [run.backend for run in result.photos] == ["onnx", "auto"]
    assert result.photo is result.photos[1] and result.photo_speedup == pytest.approx(2.5)
    lines = render_table(result).splitlines()
    head = next(line for line in lines if line.startswith("**A phone photo"))
    assert head.startswith(
        "**A phone photo, 40x30 (0 MP) to 160x120 PNG** (`mfagan upscale photo.jpg -o out.png` "
        "with `--backend onnx`, then `--backend auto`, model small, default tile size, "
        "one run each in a child process;"
    )
    after = lines[lines.index(head) + 1 :]
    assert after[:3] == [
        "",
        "- onnxruntime: 10.0 s on onnx, peak RSS 2.00 GiB.",
        "- auto: 4.0 s on openvino-bf16 (auto), peak RSS 1.00 GiB; auto 2.50x onnxruntime's speed.",
    ]
    data = json.loads(json.dumps(result.as_dict()))
    assert [run["backend"] for run in data["photos"]] == ["onnx", "auto"]
    assert data["photos"][0]["seconds"] == 10.0 and data["photos"][1]["runtime"] == "openvino-bf16"
    assert data["photo"]["backend"] == "auto" and data["photo_speedup"] == pytest.approx(2.5)
    # A photo smaller than a phone's is not judged: there the child's start-up dominates.
    assert not [g for g in result.goals if g.lr_size is None]
    assert "12 MP photo" not in render_table(result)


def test_a_phone_photo_line_without_a_runtime_names_the_backend_or_autos_pick(monkeypatch) -> None:
    _fake_photo_runs(monkeypatch, [], onnx=dict(runtime=""), auto=dict(runtime="", seconds=2.0))
    settings = dataclasses.replace(SETTINGS, time_size=None, photo=(40, 30))
    notices = [e.message for e in _photo_bench(settings) if isinstance(e, Notice)]
    assert "phone photo: 3.0 s on onnx" in notices
    assert "phone photo: 2.0 s on auto's pick (auto)" in notices


def test_a_failed_phone_photo_says_so_and_no_time(monkeypatch) -> None:
    _fake_photo_runs(monkeypatch, [], auto=dict(seconds=None, runtime="", error="out of memory"))
    settings = dataclasses.replace(SETTINGS, time_size=None, photo=(40, 30))
    notices = [e.message for e in _photo_bench(settings) if isinstance(e, Notice)]
    assert "phone photo on auto fails: out of memory" in notices
    assert [n for n in notices if n.startswith("phone photo")] == [
        "phone photo: 3.0 s on openvino-fp32",
        "phone photo on auto fails: out of memory",
    ]


@pytest.mark.parametrize(
    ("auto", "verdicts", "found"),
    [
        (dict(seconds=4.0, peak_rss_bytes=2**30), ("pass", "pass"), ("2.50x", "1.00 GiB (auto)")),
        (
            dict(seconds=6.0, peak_rss_bytes=3 * 2**30),
            ("FAIL", "FAIL"),
            ("1.67x", "3.00 GiB (auto)"),
        ),
        (
            dict(seconds=None, peak_rss_bytes=2**30, error="killed", runtime=""),
            ("FAIL", "FAIL"),
            ("a run failed", "auto's run failed"),
        ),
    ],
)
def test_the_phone_photo_goals(monkeypatch, auto: dict, verdicts: tuple, found: tuple) -> None:
    from engine.measure.bench_photo import PHONE_PHOTO

    asked: list[str] = []
    onnx = dict(seconds=10.0, peak_rss_bytes=2 * 2**30, runtime="onnx")
    _fake_photo_runs(monkeypatch, asked, onnx=onnx, auto=auto)
    # No cost goals (the stand-ins fail them): the verdict rests on the photo goals alone.
    settings = dataclasses.replace(SETTINGS, time_size=None, profile_sizes=(), photo=PHONE_PHOTO)
    result: BenchResult = _photo_bench(settings)[-1].result
    speed, memory = result.goals
    assert (speed.metric, speed.target, speed.at_most) == ("photo_speedup", 2.0, False)
    assert (memory.metric, memory.target, memory.at_most) == ("photo_peak_rss_gib", 2.5, True)
    assert (speed.passed, memory.passed) == tuple(v == "pass" for v in verdicts)
    assert result.goals_passed == (verdicts == ("pass", "pass"))
    table = render_table(result)
    assert (
        f"- 12 MP photo: auto >= 2.0x faster than onnxruntime: {found[0]}: **{verdicts[0]}**"
        in table
    )
    assert f"- 12 MP photo peak RSS <= 2.5 GiB: {found[1]}: **{verdicts[1]}**" in table
    data = json.loads(json.dumps(result.as_dict()))
    photo_goals = [g for g in data["goals"] if g["lr_size"] is None]
    assert [(g["metric"], g["passed"]) for g in photo_goals] == [
        ("photo_speedup", verdicts[0] == "pass"),
        ("photo_peak_rss_gib", verdicts[1] == "pass"),
    ]


def test_quick_keeps_its_small_photo_and_judges_no_photo_goal() -> None:
    quick = BenchSettings.quick()
    assert quick.photo == (400, 300) and quick.photo_backends == ("onnx", "auto")
    assert not quick.photo_goals
    assert BenchSettings().photo_goals
    assert not dataclasses.replace(BenchSettings(), photo_backends=("auto",)).photo_goals
