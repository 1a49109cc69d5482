from __future__ import annotations

import json

from engine.cli import main


def test_latency_of_bicubic_prints_gpu_and_npu(capsys):
    assert main(["latency", "--model", "bicubic"]) == 0
    out = capsys.readouterr().out
    assert "GPU" in out and "NPU" in out and "leave-one-out" in out


def test_latency_json_for_a_student_config(capsys):
    assert main(["latency", "--model", "b4-c32-g16-h1111-conv-x4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "b4-c32-g16-h1111-conv-x4"
    assert data["gpu"]["low_ms"] < data["gpu"]["ms"] < data["gpu"]["high_ms"]
    assert data["npu"]["low_ms"] >= 10.0
    assert data["calibration"]["gpu"]["loo"]["max_relative_error"] < 0.06


def test_latency_of_the_teacher_never_loads_its_weights(capsys, monkeypatch):
    from engine.models import teacher

    def refuse(*args, **kwargs):
        raise AssertionError("latency must not convert or download the teacher")

    monkeypatch.setattr(teacher, "load_teacher", refuse)
    assert main(["latency", "--model", "realesrgan-x4plus", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] > 16_000_000


def test_latency_usage_errors_exit_2(capsys):
    assert main(["latency", "--model", "no-such-net"]) == 2
    assert "reference net" in capsys.readouterr().err
    assert main(["latency", "--model", "b9-c32-g16-h1111-conv-x4"]) == 2
    assert "invalid MFA config" in capsys.readouterr().err
    assert main(["latency", "--model", "b4-c32-g16-h1111-conv-x4", "--size", "127"]) == 2
    assert "multiple of 2" in capsys.readouterr().err
