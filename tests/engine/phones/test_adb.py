"""Phone detection over adb, with a fake ``adb`` executable on PATH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.phones.adb import detect_phone
from tests.fake_adb import install_fake_adb


@pytest.fixture
def fake_adb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fake adb first on PATH; returns a setter for what it reports."""
    return install_fake_adb(tmp_path, monkeypatch)


def test_no_adb_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    found = detect_phone()
    assert found.status == "no-adb" and "apt install adb" in found.message
    assert not found.found


def test_no_phone_connected(fake_adb):
    fake_adb(devices="")
    found = detect_phone()
    assert found.status == "no-device" and "USB debugging" in found.message


def test_unauthorized_phone(fake_adb):
    fake_adb(devices="R5CW1234\\tunauthorized\\n")
    found = detect_phone()
    assert found.status == "unauthorized" and found.serial == "R5CW1234"
    assert "Allow USB debugging" in found.message


def test_known_soc_maps_to_its_profile(fake_adb):
    fake_adb(devices="R5CW1234\\tdevice\\n", soc="SM8650", platform="pineapple", model="SM-S921B")
    found = detect_phone()
    assert found.status == "ok" and found.profile == "galaxy-s24"
    assert found.product_model == "SM-S921B" and "SM8650" in found.message


def test_ai_hub_bin_of_a_soc_still_matches(fake_adb):
    # Non-Galaxy 8 Elite phones report SM8750; AI Hub measured the SM8750-AC bin (S25).
    fake_adb(devices="abc\\tdevice\\n", soc="SM8750", model="Phone")
    assert detect_phone().profile == "galaxy-s25"


def test_old_android_without_soc_model_uses_the_platform(fake_adb):
    fake_adb(devices="abc\\tdevice\\n", soc="", platform="taro", model="SM-S901B")
    assert detect_phone().profile == "galaxy-s22"


def test_qualcomm_soc_without_profile_names_the_nearest(fake_adb):
    fake_adb(devices="abc\\tdevice\\n", soc="SM8550", model="SM-S911B")  # 8 Gen 2
    found = detect_phone()
    assert found.status == "unknown-soc" and found.profile is None
    assert found.nearest == "galaxy-s24"
    assert "Snapdragon 8 Gen 2" in found.message and "Hexagon v73" in found.message


def test_unknown_soc_names_the_conservative_default(fake_adb):
    fake_adb(devices="abc\\tdevice\\n", soc="MT6989", platform="mt6989", model="Phone")
    found = detect_phone()
    assert found.status == "unknown-soc" and found.nearest == "snapdragon-865"
    assert "not in AI Hub's Snapdragon table" in found.message


def test_adb_failure_is_one_line(fake_adb):
    fake_adb(fail="1")
    found = detect_phone()
    assert found.status == "adb-failed" and "protocol fault" in found.message


def test_cli_adb_json_and_exit_codes(fake_adb, capsys):
    fake_adb(devices="abc\\tdevice\\n", soc="SM7750", model="QRD")
    assert main(["devices", "--adb", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["profile"] == "snapdragon-7-gen-4" and data["status"] == "ok"
    fake_adb(devices="")
    assert main(["devices", "--adb"]) == 1
    captured = capsys.readouterr()  # issue 22.13: the error went to stdout
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: no phone connected")
    fake_adb(fail="1")
    assert main(["devices", "--adb"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "protocol fault" in captured.err
