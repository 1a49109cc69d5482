"""Whether the AI Hub server answers at all, asked in seconds before any export work.

Without a network, qai-hub's requests retry with back-off for minutes and print nothing,
so ``export --format aihub`` would sit silent long after its local work. One TCP connect to
the API host (or to the HTTPS proxy requests would use) settles it first; it runs in a
thread with a deadline because name resolution has no timeout of its own.
"""

from __future__ import annotations

import socket
import threading
import urllib.request
from urllib.parse import urlsplit

from engine.errors import MfaganError

CONNECT_TIMEOUT_S = 8.0  # a slow mobile link connects in 1-2 s; DNS retries take 5 s each
_RETRY = "check the network connection and try again"


class UnreachableError(MfaganError):
    """The AI Hub server (or the proxy in front of it) did not answer: one line."""


def check_reachable(url: str, *, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Return once a TCP connection to ``url``'s host opens; UnreachableError (one line,
    "cannot reach AI Hub ...") when it is refused, fails or takes longer than ``timeout``."""
    host, port = _endpoint(url)
    failure: list[OSError] = []
    done = threading.Event()

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as error:
            failure.append(error)
        finally:
            done.set()

    threading.Thread(target=attempt, name="aihub-reach", daemon=True).start()
    if not done.wait(timeout):
        raise UnreachableError(
            f"cannot reach AI Hub at {host}:{port} (no answer in {timeout:g} s); {_RETRY}"
        )
    if failure:
        error = failure[0]
        reason = error.strerror or str(error) or type(error).__name__
        raise UnreachableError(f"cannot reach AI Hub at {host}:{port} ({reason}); {_RETRY}")


def _endpoint(url: str) -> tuple[str, int]:
    """Where the first connection goes: the proxy for the URL's scheme, else its host."""
    target = _host_port(url)
    if target is None:
        raise UnreachableError(f"cannot reach AI Hub: {url!r} is not a server address")
    proxy = urllib.request.getproxies().get(urlsplit(url).scheme)
    if proxy and not urllib.request.proxy_bypass(target[0]):
        # Only host and port are ever shown: a proxy URL may hold credentials.
        return _host_port(proxy if "://" in proxy else f"http://{proxy}") or target
    return target


def _host_port(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number
        return None
    return (parts.hostname, port) if parts.hostname else None


__all__ = ["CONNECT_TIMEOUT_S", "UnreachableError", "check_reachable"]
