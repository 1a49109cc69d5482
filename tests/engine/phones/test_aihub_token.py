"""The AI Hub token: any printable token stored where qai-hub reads it, and never echoed.

Every failure of ``aihub login`` and of ``export --format aihub`` that can be reached here
runs with a marker token; none of their output, and no file they leave (other than the
token file itself), may hold any part of it (issue 22 item 5).
"""

from __future__ import annotations

import io
import socket
import stat
from pathlib import Path

import pytest
from fake_qai_hub import FakeHub
from qai_hub.api_utils import load_api_config_from_file

from engine.cli import main
from engine.errors import UsageError
from engine.phones import aihub

# The '%' made configparser print the token in a traceback; the part after it is what an
# interpolation error quotes.
MARKER = "LEAKCANARY%zq7leak"
PIECES = (MARKER, MARKER.replace("%", "%%"), "zq7leak", "LEAKCANARY")


@pytest.fixture(autouse=True)
def client_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "qai_hub" / "client.ini"
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(path))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return path


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _login(monkeypatch: pytest.MonkeyPatch, stdin: str | bytes, *extra: str) -> int:
    raw = stdin if isinstance(stdin, bytes) else stdin.encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    return main(["aihub", "login", *extra])


def _leaks(text: str) -> list[str]:
    return [piece for piece in PIECES if piece in text]


def test_a_token_with_percent_is_stored_0600_and_qai_hub_reads_it_back(
    client_ini: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client_ini.parent.mkdir(parents=True)
    client_ini.write_text("[api]\napi_url = https://example.test/%%x\ndefault_project = p\n")
    assert _login(monkeypatch, MARKER + "\n") == 0
    out, err = capsys.readouterr()
    assert not _leaks(out + err) and "saved" in out
    assert stat.S_IMODE(client_ini.stat().st_mode) == 0o600
    config = load_api_config_from_file(str(client_ini))  # qai-hub's own reader
    assert config.api_token == MARKER
    assert config.api_url == "https://example.test/%x"  # other settings kept as written
    assert config.default_project == "p"
    assert aihub.token_configured() and aihub.stored_token() == MARKER


@pytest.mark.parametrize(
    "token", ["!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "a=b", "[api]", ";x", "#x", "%(home)s"]
)
def test_every_printable_ascii_token_round_trips(client_ini: Path, token: str) -> None:
    aihub.store_token(token)
    assert load_api_config_from_file(str(client_ini)).api_token == token


@pytest.mark.parametrize("token", ["", "two words", "tab\there", "esc\x1b[2J", "caf\u00e9"])
def test_tokens_qai_hub_cannot_send_are_refused(client_ini: Path, token: str) -> None:
    with pytest.raises(UsageError, match="not an AI Hub API token"):
        aihub.store_token(token)
    assert not client_ini.exists()


def _login_failures(
    tmp_path: Path, client_ini: Path, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, int]]:
    """Each failure of ``aihub login``: (what, exit code)."""
    codes = [
        ("token on argv", main(["aihub", "login", MARKER])),
        ("space", _login(monkeypatch, f"{MARKER} more\n")),
        ("escape", _login(monkeypatch, f"{MARKER}\x1b[2J\n")),
        ("not UTF-8", _login(monkeypatch, MARKER.encode() + b"\xff\n")),
        ("empty", _login(monkeypatch, "")),
    ]
    client_ini.parent.mkdir(parents=True, exist_ok=True)
    for what, text in [
        ("no section", f"api_token = {MARKER}\n"),
        ("no delimiter", f"[api]\napi_token {MARKER}\n"),
        ("duplicate", f"[api]\napi_token = {MARKER}\napi_token = {MARKER}\n"),
    ]:
        client_ini.write_text(text)
        codes.append((what, _login(monkeypatch, "fresh-token\n")))
        assert client_ini.read_text() == text  # a file we cannot read is left as it is
    client_ini.unlink()
    client_ini.mkdir()  # the configuration path is a folder
    codes.append(("folder", _login(monkeypatch, MARKER + "\n")))
    client_ini.rmdir()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(blocker / "client.ini"))
    codes.append(("parent is a file", _login(monkeypatch, MARKER + "\n")))
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(client_ini))
    return codes


def _export_failures(
    tmp_path: Path, client_ini: Path, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, int]]:
    """Each failure of ``export --format aihub`` with the marker token stored."""
    client_ini.write_text(f"[api]\napi_url = http://127.0.0.1:{_closed_port()}\n")
    assert _login(monkeypatch, MARKER + "\n") == 0
    out = str(tmp_path / "bundle")
    export = ["export", "--format", "aihub", "--out", out, "--quiet", "--teacher", "none"]
    codes = [
        ("unreachable", main(export)),
        ("unknown device", main([*export, "--device", "nokia-3310"])),
        ("unknown format", main([*export, "--format", "coreml"])),
    ]
    # A '%' not doubled (a hand edit): qai-hub's interpolation would quote the token.
    client_ini.write_text(f"[api]\napi_token = {MARKER}\napi_url = https://example.test\n")
    codes.append(("lone %", main(export)))
    assert not aihub.token_configured()
    return codes


def test_no_failure_of_login_or_export_echoes_the_token(
    tmp_path: Path,
    client_ini: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    results = _login_failures(tmp_path, client_ini, monkeypatch)
    results += _export_failures(tmp_path, client_ini, monkeypatch)
    out, err = capsys.readouterr()
    assert not _leaks(out + err), out + err
    assert "Traceback" not in err
    login = [code for what, code in results if what not in {"unreachable", "lone %"}]
    assert set(login) == {2}, results
    assert dict(results)["unreachable"] == dict(results)["lone %"] == 1
    assert "cannot reach AI Hub" in err and "qai-hub cannot read the token" in err
    assert err.count("\n") == len(results)  # one line each
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != client_ini]
    for path in written:
        assert not _leaks(path.read_bytes().decode("utf-8", "replace")), path
    assert not (tmp_path / "bundle").exists()


def test_a_hub_message_quoting_the_token_is_blanked(client_ini: Path, tmp_path: Path) -> None:
    aihub.store_token(MARKER)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"onnx")
    request = aihub.AihubRequest(model=model, device="Samsung Galaxy S24 (Family)")
    hub = FakeHub(fail="compile", fail_message=f"401: token {MARKER} is not valid")
    with pytest.raises(aihub.AihubError) as caught:
        list(aihub.run_on_aihub(request, hub, poll=0))
    assert not _leaks(str(caught.value)) and "<token>" in str(caught.value)
