"""The phone profiles as a list (for ``mfagan devices`` and the GUI's phone wizard), and which
profile fits a given SoC.

Listing reads each profile's JSON only: the leave-one-out errors it shows are the ones
``engine/phones/build_profiles.py`` recorded, which ``tests/engine/phones`` re-derive by
calibrating. Matching a SoC uses the part numbers and Hexagon (HTP) versions of AI Hub's
chipset table (``resources/phones/soc/chipsets.json``, written by the same script).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from engine.errors import UsageError
from engine.phones.device import (
    DEFAULT_PROFILE,
    PHONES,
    DeviceProfile,
    load_device_profile,
    profile_ids,
    profile_path,
)

CHIPSETS = PHONES / "soc" / "chipsets.json"
# Older phones (before Android 12) have no ro.soc.model; their ro.board.platform is the
# Qualcomm platform codename (as in Qualcomm's kernel and LineageOS device trees).
PLATFORM_CODENAMES = {
    "sdm845": "sdm845",
    "msmnile": "sm8150",
    "kona": "sm8250",
    "lahaina": "sm8350",
    "taro": "sm8450",
    "kalama": "sm8550",
    "pineapple": "sm8650",
    "sun": "sm8750",
}


# What a profile shows of its device file, under the device's names (and in its JSON).
_DEVICE_FIELDS = ("name", "chipset", "aihub_devices", "soc_models", "htp_version", "package")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value  # JSON has lists


@dataclass(frozen=True, kw_only=True)
class ColumnSummary:
    key: str
    title: str
    measured: int
    loo_mean: float | None
    loo_max: float | None


@dataclass(frozen=True, kw_only=True)
class Profile:
    """One phone profile as the wizard shows it: who, which chip, how well it is calibrated."""

    id: str
    name: str
    chipset: str
    aihub_devices: tuple[str, ...]
    soc_models: tuple[str, ...]
    htp_version: int | None
    package: str
    is_default: bool
    columns: tuple[ColumnSummary, ...]

    @property
    def default_column(self) -> ColumnSummary:
        return self.columns[0]

    @property
    def fit_quality(self) -> float | None:
        """Mean leave-one-out error of the default column (None when not recorded)."""
        return self.default_column.loo_mean

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **{name: _plain(getattr(self, name)) for name in _DEVICE_FIELDS},
            "default": self.is_default,
            "columns": [
                {
                    "key": c.key,
                    "title": c.title,
                    "measured_nets": c.measured,
                    "loo_mean_relative_error": c.loo_mean,
                    "loo_max_relative_error": c.loo_max,
                }
                for c in self.columns
            ],
        }


def _summary(profile_id: str) -> Profile:
    path = profile_path(profile_id)
    device: DeviceProfile = load_device_profile(path)
    raw = json.loads(path.read_text(encoding="utf-8"))["columns"]
    columns = tuple(
        ColumnSummary(
            key=column.key,
            title=column.title,
            measured=len(column.fit_points()),
            loo_mean=data.get("loo_mean_relative_error"),
            loo_max=data.get("loo_max_relative_error"),
        )
        for column, data in zip(device.columns, raw, strict=True)
    )
    return Profile(
        id=profile_id,
        **{name: getattr(device, name) for name in _DEVICE_FIELDS},
        is_default=profile_id == DEFAULT_PROFILE,
        columns=columns,
    )


def list_profiles() -> list[Profile]:
    """Every profile, the default first."""
    return [_summary(profile_id) for profile_id in profile_ids()]


@dataclass(frozen=True, kw_only=True)
class Chipset:
    id: str
    name: str
    part_numbers: tuple[str, ...]
    htp_version: int | None


@functools.cache
def chipsets() -> tuple[Chipset, ...]:
    try:
        data = json.loads(CHIPSETS.read_text(encoding="utf-8"))
        return tuple(
            Chipset(
                id=c["id"],
                name=c["name"],
                part_numbers=tuple(c["part_numbers"]),
                htp_version=c.get("htp_version"),
            )
            for c in data["chipsets"]
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{CHIPSETS}: cannot read the chipset table ({error!r})") from None


def _base(part: str) -> str:
    """``sm8750-ac`` -> ``sm8750``: the phone reports the family, AI Hub a bin of it."""
    return part.lower().strip().split("-")[0]


def _tier(name: str) -> int | None:
    """Snapdragon series (8, 7, 6...) from a marketing name, e.g. '8 Gen 3' -> 8."""
    match = re.search(r"snapdragon\D*(\d)", name, re.IGNORECASE)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, kw_only=True)
class SocMatch:
    """``profile``: an exact fit for the SoC; otherwise ``nearest`` and ``reason``."""

    soc: str
    chipset: Chipset | None
    profile: str | None
    nearest: str | None
    reason: str


def match_soc(soc_model: str, board_platform: str = "") -> SocMatch:
    """Which profile fits the SoC a phone reports (``ro.soc.model``, ``ro.board.platform``)."""
    soc = _base(soc_model) or PLATFORM_CODENAMES.get(board_platform.lower().strip(), "")
    profiles = list_profiles()
    for profile in profiles:
        if soc and soc in {_base(p) for p in profile.soc_models}:
            return SocMatch(
                soc=soc, chipset=_chipset_of(soc), profile=profile.id, nearest=None,
                reason=f"{soc.upper()} is the {profile.chipset} of profile {profile.id}",
            )  # fmt: skip
    chip = _chipset_of(soc)
    if chip is None:
        shown = soc_model or board_platform or "unknown"
        return SocMatch(
            soc=soc, chipset=None, profile=None, nearest=DEFAULT_PROFILE,
            reason=f"SoC {shown!r} is not in AI Hub's Snapdragon table, so no published "
            f"figures compare with it; {DEFAULT_PROFILE}, the slowest profile, is the "
            "conservative stand-in",
        )  # fmt: skip
    nearest = _nearest(chip, profiles)
    return SocMatch(
        soc=soc, chipset=chip, profile=None, nearest=nearest.id,
        reason=f"{soc.upper()} ({chip.name}, Hexagon v{chip.htp_version}) has no profile; "
        f"nearest is {nearest.id} ({nearest.chipset}, Hexagon v{nearest.htp_version}): "
        "same Snapdragon series first, then the closest Hexagon NPU version",
    )  # fmt: skip


def _chipset_of(soc: str) -> Chipset | None:
    if not soc:
        return None
    for chip in chipsets():
        if soc in {_base(part) for part in chip.part_numbers}:
            return chip
    return None


def _nearest(chip: Chipset, profiles: list[Profile]) -> Profile:
    tier = _tier(chip.name)
    version = chip.htp_version or 0

    def distance(profile: Profile) -> tuple[int, int, int]:
        other = profile.htp_version or 0
        # Ties go to the older NPU: a prediction that errs slow, not fast.
        return (_tier(profile.chipset) != tier, abs(other - version), -(other <= version))

    return min(profiles, key=distance)
