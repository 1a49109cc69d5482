"""``mfagan search`` end to end on a tiny supernet and a tiny teacher, this computer as a
target, and bad input as one clear line with exit code 2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from engine.cli import main
from engine.events import Finished, Progress
from engine.inference.runtime_choice import Candidate
from engine.models.mfa import MFAConfig
from engine.models.rrdbnet import RRDBNet, RRDBNetConfig
from engine.nas import host_latency
from engine.nas.space import SearchSpace
from engine.nas.supernet import Supernet, save_supernet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY_SPACE = SearchSpace(blocks=(2, 3), widths=(16, 24), inner_widths=(8, 16))


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("MFAGAN_CACHE_DIR", str(tmp_path / "cache"))
    supernet = tmp_path / "supernet.safetensors"
    save_supernet(supernet, Supernet(TINY_SPACE, seed=1))
    torch.manual_seed(0)
    teacher = RRDBNet(RRDBNetConfig(num_block=1, num_feat=8, num_grow_ch=4))
    teacher_file = tmp_path / "teacher.safetensors"
    save_file({k: v.contiguous() for k, v in teacher.state_dict().items()}, str(teacher_file))
    return {"supernet": supernet, "teacher": teacher_file, "out": tmp_path / "out"}


def _search(tiny: dict[str, Path], *extra: str) -> list[str]:
    return [
        "search", "--supernet", str(tiny["supernet"]), "--teacher", str(tiny["teacher"]),
        "--candidates", "16", "--population", "6", "--patches", "2", "--patch-size", "16",
        "--quiet", *extra,
    ]  # fmt: skip


def test_search_end_to_end_writes_json_and_picture_and_a_seed_reproduces_it(tiny, capsys):
    args = _search(tiny, "--budget-ms", "9", "--seed", "3", "--out", str(tiny["out"]), "--json")
    assert main(args) == 0
    shown = json.loads(capsys.readouterr().out)
    pick = shown["pick"]
    assert pick["latency"]["ms"] <= 9 and pick["latency"]["low_ms"] <= pick["latency"]["ms"]
    assert pick["macs"] > 0 and pick["params"] > 0 and pick["peak_activation_bytes"] > 0
    assert TINY_SPACE.contains(MFAConfig.decode(pick["config"]))
    assert shown["evolution"]["scored"] == shown["random"]["scored"] > 0
    assert shown["front"] and all(p["latency_ms"] <= 9 for p in shown["front"])
    assert {r["key"] for r in shown["references"]} >= {"xlsr", "quicksrnetlarge"}
    student = shown["student"]  # the shipped one, with its own weights; outside TINY_SPACE
    assert student["fidelity_db"] > 0 and student["fidelity_db_supernet"] is None
    saved = json.loads((tiny["out"] / "search.json").read_text())
    assert all(c["latency_ms"] <= 9 for c in saved["evolution"]["candidates"])
    with Image.open(tiny["out"] / "pareto.png") as picture:
        assert picture.size[0] > 400
    assert main([*args[:-3], "--out", str(tiny["out"] / "again")]) == 0
    again = json.loads((tiny["out"] / "again" / "search.json").read_text())

    def configs(data: dict) -> list[str]:
        return [c["config"] for c in data["evolution"]["candidates"]]

    assert configs(again) == configs(saved) and again["pick"] == saved["pick"]


def test_text_output_and_bench_line(tiny, capsys):
    code = main(_search(tiny, "--budget-ms", "15", "--unit", "gpu", "--bench"))
    out = capsys.readouterr().out
    assert code in (0, 1)  # 1 only if this busy machine scores under 1000/min
    assert "pick     b" in out and "Pareto front" in out
    assert "bench: evolution" in out and "/min" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--device", "nokia-3310", "--budget-ms", "15"], "unknown device 'nokia-3310'"),
        (["--budget-ms", "0"], "positive number of ms"),
        (["--budget-ms", "-3"], "positive number of ms"),
        (["--budget-ms", "1"], "below the smallest subnet"),
        (["--budget-ms", "15", "--size", "33"], "even number of pixels"),
        (["--budget-ms", "nan"], "positive number of ms"),
        (["--budget-ms", "15", "--unit", "gpu", "--precision", "float"], "no precision"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny, capsys, extra, message):
    assert main(_search(tiny, *extra)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and err.startswith("error:")


def test_missing_supernet_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["search", "--budget-ms", "15", "--supernet", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no supernet file" in err and "\n" not in err


FAST_TIMED = tuple(
    MFAConfig.decode(text)
    for text in (
        "b2-c16-g8-h00-conv-x4",
        "b2-c24-g16-h11-conv-x4",
        "b3-c16-g16-h010-conv-x4",
        "b3-c24-g8-h111-conv-x4",
        "b2-c16-g16-h10-conv-x4",
        "b3-c24-g16-h000-conv-x4",
    )
)


def test_this_computer_is_a_target(tiny, capsys, monkeypatch):
    monkeypatch.setattr(host_latency, "TIMED_CONFIGS", FAST_TIMED)
    # What auto picks for the default model here (runtime_choice's measurement, faked: the
    # subnets are timed on OpenVINO, not on a fixed onnxruntime).
    monkeypatch.setattr(host_latency, "host_runtime", lambda threads: Candidate(kind="openvino"))
    events = list(host_latency.host_latency(size=32, threads=1))
    model = events[-1].result
    assert isinstance(events[-1], Finished) and len(model.timed) == 6
    assert len(model.loo_errors) == 6 and "leave-one-out" in model.describe()
    assert model.runtime == "openvino-fp32"
    again = list(host_latency.host_latency(size=32, threads=1))
    assert again[-1] == Finished(result=model) and not any(
        isinstance(e, Progress) and "timing" in e.stage for e in again
    )
    budget = str(model(TINY_SPACE.largest()) * 2)
    monkeypatch.setattr("engine.inference.backends.available_threads", lambda: 1)
    args = _search(tiny, "--device", "this-computer", "--size", "32", "--budget-ms", budget)
    assert main([*args, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["target"]["device"] == "this-computer" and shown["references"] == []
    assert "timed subnets" in shown["target"]["latency_model"]
    assert "openvino-fp32" in shown["target"]["latency_model"]


def test_finetune_turns_the_pick_into_a_user_model_with_its_lineage(
    tmp_path, capsys, tiny_supernet_toml
):
    config = tiny_supernet_toml
    config.write_text(config.read_text().replace("steps = 8", "steps = 2"))
    run = tmp_path / "run"
    assert main(["supernet", "train", "--config", str(config), "--out", str(run), "--quiet"]) == 0
    tiny = {"supernet": run / "supernet.safetensors", "teacher": tmp_path / "teacher.safetensors"}
    args = _search(tiny, "--budget-ms", "12", "--finetune", "6", "--name", "nas-pick")
    data = ["--data", str(tmp_path / "photos_a"), "--data", str(tmp_path / "photos_b")]
    assert main([*args, *data, "--finetune-out", str(tmp_path / "ft")]) == 0
    out = capsys.readouterr().out
    assert "registered user model 'nas-pick'" in out
    from engine.models.registry import get_model

    model = get_model("nas-pick")
    card = json.loads(next((tmp_path / "data" / "models").glob("nas-pick.json")).read_text())
    search = card["nas"]["search"]
    assert model.config.encode() == card["nas"]["config"] == search["pick"]
    assert search["budget_ms"] == 12 and search["device"] == "snapdragon-865"
    assert set(search["predicted_latency"]) == {"target", "gpu", "npu"}
    assert search["predicted_latency"]["target"]["ms"] <= 12


def test_finetune_without_data_fails_before_searching(tiny, capsys):
    assert main(_search(tiny, "--budget-ms", "15", "--finetune", "5")) == 2
    assert "--finetune needs --data" in capsys.readouterr().err


def test_cancel_stops_the_search_job_and_restores_threads(tiny):
    from engine.events import Cancelled, CancelToken
    from engine.nas.evolution import CandidateScored
    from engine.nas.search import SearchRequest, run_search
    from engine.nas.valset import PatchPlan

    request = SearchRequest(
        budget_ms=15, supernet=tiny["supernet"], teacher=str(tiny["teacher"]),
        patches=PatchPlan(count=2, size=16), threads=1,
    )  # fmt: skip
    torch.set_num_threads(2)
    cancel, scored = CancelToken(), 0
    with pytest.raises(Cancelled):
        for event in run_search(request, cancel):
            if isinstance(event, CandidateScored):
                assert event.candidate.latency_ms <= 15
                scored += 1
                cancel.cancel()
    assert scored == 1
    assert torch.get_num_threads() == 2


def _out_cases(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    a_file = tmp_path / "results.txt"
    a_file.write_text("the user's own file")
    folder_json = tmp_path / "taken"
    (folder_json / "search.json").mkdir(parents=True)
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    return {
        "existing file": (a_file, "is a file, not a folder"),
        "below a file": (a_file / "sub", "is a file, not a folder"),
        "search.json a folder": (folder_json, "search.json (it is not a file)"),
        "read-only folder": (read_only / "out", "cannot write in"),
    }


@pytest.mark.parametrize(
    "case", ["existing file", "below a file", "search.json a folder", "read-only folder"]
)
def test_an_out_that_cannot_be_written_fails_before_searching(
    tiny, tmp_path, capsys, monkeypatch, case
):
    if case == "read-only folder" and os.geteuid() == 0:
        pytest.skip("root writes into a folder without write permission")
    out, message = _out_cases(tmp_path)[case]

    def no_search(*args, **kwargs):
        raise AssertionError("the search ran")

    monkeypatch.setattr("engine.nas.search.run_search", no_search)
    assert main(_search(tiny, "--budget-ms", "15", "--out", str(out))) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out: ") and message in err and err.count("\n") == 1
    if case == "existing file":
        assert out.read_text() == "the user's own file"


def test_a_read_only_file_system_fails_before_searching(tiny, capsys, monkeypatch):
    """What a read-only folder is to root too: statvfs says the file system is read-only."""
    import engine.files

    monkeypatch.setattr(engine.files, "_read_only", lambda folder: True)
    monkeypatch.setattr("engine.nas.search.run_search", lambda *a, **k: pytest.fail("ran"))
    assert main(_search(tiny, "--budget-ms", "15", "--out", str(tiny["out"]))) == 2
    err = capsys.readouterr().err
    assert "--out: cannot write in" in err and "read-only file system" in err


def test_a_disk_that_fills_during_the_search_is_one_line_and_exit_1(tiny, capsys, monkeypatch):
    """Issue 19: --out was fine when checked, but search.json cannot be written at the end."""
    import errno

    def full(result, out):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("engine.nas.report.write_outputs", full)
    assert main(_search(tiny, "--budget-ms", "15", "--out", str(tiny["out"]))) == 1
    err = capsys.readouterr().err
    assert err == f"error: {tiny['out']}: cannot write (no space left on device)\n"
