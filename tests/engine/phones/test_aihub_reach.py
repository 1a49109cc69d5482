"""No network: ``export --format aihub`` says "cannot reach AI Hub" in seconds (issue 22.11)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from engine.cli import main
from engine.phones import aihub, aihub_reach
from engine.phones.aihub_reach import UnreachableError, check_reachable


@pytest.fixture(autouse=True)
def no_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QAIHUB_CLIENT_INI", str(tmp_path / "qai_hub" / "client.ini"))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_port_nothing_listens_on_is_one_line() -> None:
    port = _closed_port()
    with pytest.raises(UnreachableError) as caught:
        check_reachable(f"http://127.0.0.1:{port}")
    text = str(caught.value)
    assert text.startswith(f"cannot reach AI Hub at 127.0.0.1:{port} (") and "\n" not in text


def test_a_listening_server_passes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        check_reachable(f"http://127.0.0.1:{server.getsockname()[1]}", timeout=5)


def test_a_connect_that_never_answers_ends_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A blackholed host (or a DNS that does not answer): blocked until the test is done."""
    release = threading.Event()
    started = threading.Event()

    def never(*args: object, **kwargs: object) -> socket.socket:
        started.set()
        release.wait()
        raise OSError("released")

    monkeypatch.setattr(aihub_reach.socket, "create_connection", never)
    try:
        with pytest.raises(UnreachableError, match=r"no answer in 0\.2 s"):
            check_reachable("https://workbench.aihub.qualcomm.com", timeout=0.2)
        assert started.is_set()  # it did try, and gave up while the try was still blocked
    finally:
        release.set()


def test_the_https_proxy_is_what_gets_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    monkeypatch.setenv("https_proxy", f"http://user:secret@127.0.0.1:{port}")
    with pytest.raises(UnreachableError) as caught:
        check_reachable("https://workbench.aihub.qualcomm.com")
    assert f"127.0.0.1:{port}" in str(caught.value) and "secret" not in str(caught.value)


@pytest.mark.parametrize("url", ["not a url", "https://host:port/"])
def test_a_url_without_a_server_is_one_line(url: str) -> None:
    with pytest.raises(UnreachableError, match="is not a server address"):
        check_reachable(url)


def test_export_to_aihub_without_network_says_so_quickly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ini = tmp_path / "qai_hub" / "client.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text(f"[api]\napi_url = http://127.0.0.1:{_closed_port()}\n")
    aihub.store_token("a-token")
    out = tmp_path / "bundle"
    started = time.monotonic()
    code = main(["export", "--format", "aihub", "--out", str(out), "--quiet"])
    seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith("error: cannot reach AI Hub at 127.0.0.1:") and err.count("\n") == 1
    assert seconds < 30  # not 40 s of silent retries, nor minutes of export work first
    assert not out.exists()
