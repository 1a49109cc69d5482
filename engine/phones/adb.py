"""Detect a phone connected over adb and map it to a phone profile.

Uses the ``adb`` client on PATH (Debian / Ubuntu: ``sudo apt install adb``): ``adb devices``
lists the phones and their state, then ``adb -s SERIAL shell getprop`` reads the SoC
(``ro.soc.model``, Android 12+), the platform (``ro.board.platform``) and the model name
(``ro.product.model``). Every way this can fail (no adb, no phone, a phone that has not
accepted this computer's key, an unknown SoC) is a :class:`Detection` with a status and one
line saying what to do, never an exception.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from engine.phones.catalog import match_soc

TIMEOUT_S = 10.0
OK, NO_ADB, NO_DEVICE, UNAUTHORIZED, OFFLINE, ADB_FAILED, UNKNOWN_SOC = (
    "ok", "no-adb", "no-device", "unauthorized", "offline", "adb-failed", "unknown-soc",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Detection:
    """What ``detect_phone`` found. ``profile`` is set when the SoC has a profile; otherwise
    ``nearest`` (with ``message`` saying why) when a phone was read at all."""

    status: str
    message: str
    serial: str = ""
    product_model: str = ""
    soc_model: str = ""
    board_platform: str = ""
    profile: str | None = None
    nearest: str | None = None

    @property
    def found(self) -> bool:
        return self.status in (OK, UNKNOWN_SOC)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "serial": self.serial,
            "product_model": self.product_model,
            "soc_model": self.soc_model,
            "board_platform": self.board_platform,
            "profile": self.profile,
            "nearest": self.nearest,
        }


class _AdbError(Exception):
    pass


def _adb(adb: str, *args: str) -> str:
    try:
        done = subprocess.run(
            [adb, *args], capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _AdbError(f"adb {' '.join(args)} failed: {error}") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise _AdbError(
            f"adb {' '.join(args)} exited with {done.returncode}"
            + (f": {detail[-1]}" if detail else "")
        )
    return done.stdout


def _devices(listing: str) -> list[tuple[str, str]]:
    """(serial, state) per phone from ``adb devices`` output."""
    phones = []
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith(("List of devices", "*")):
            phones.append((parts[0], parts[1]))
    return phones


def detect_phone(adb: str | None = None) -> Detection:
    """Find the first phone adb sees and the profile that fits its SoC."""
    adb = adb or shutil.which("adb")
    if adb is None:
        return Detection(
            status=NO_ADB,
            message="adb is not installed (Debian/Ubuntu: sudo apt install adb); "
            "pick a profile with --device instead",
        )
    try:
        phones = _devices(_adb(adb, "devices"))
    except _AdbError as error:
        return Detection(status=ADB_FAILED, message=str(error))
    ready = [serial for serial, state in phones if state == "device"]
    if not ready:
        return _not_ready(phones)
    serial = ready[0]
    try:
        props = {
            name: _adb(adb, "-s", serial, "shell", "getprop", name).strip()
            for name in ("ro.soc.model", "ro.board.platform", "ro.product.model")
        }
    except _AdbError as error:
        return Detection(status=ADB_FAILED, message=str(error), serial=serial)
    return _mapped(serial, props, others=len(ready) - 1)


def _not_ready(phones: list[tuple[str, str]]) -> Detection:
    if not phones:
        return Detection(
            status=NO_DEVICE,
            message="no phone connected: plug it in by USB and turn on USB debugging "
            "(Settings > Developer options)",
        )
    serial, state = phones[0]
    if state == "unauthorized":
        return Detection(
            status=UNAUTHORIZED,
            serial=serial,
            message=f"phone {serial} is unauthorized: unlock it and accept the "
            "'Allow USB debugging?' prompt, then try again",
        )
    return Detection(
        status=OFFLINE,
        serial=serial,
        message=f"phone {serial} is {state}: reconnect the cable or run 'adb reconnect'",
    )


def _mapped(serial: str, props: dict[str, str], *, others: int) -> Detection:
    soc, platform, model = (
        props["ro.soc.model"], props["ro.board.platform"], props["ro.product.model"],
    )  # fmt: skip
    match = match_soc(soc, platform)
    who = f"{model or 'phone'} ({serial}, SoC {soc or platform or 'unknown'})"
    extra = f"; {others} more phone(s) connected, using the first" if others else ""
    common = {
        "serial": serial, "product_model": model, "soc_model": soc, "board_platform": platform,
    }  # fmt: skip
    if match.profile is not None:
        return Detection(
            status=OK, profile=match.profile, message=f"{who}: {match.reason}{extra}", **common
        )
    return Detection(
        status=UNKNOWN_SOC,
        nearest=match.nearest,
        message=f"{who}: {match.reason}{extra}",
        **common,
    )
