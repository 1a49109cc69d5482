"""The public networks the phone profiles were measured with, named for people.

Their engine titles are the papers' and AI Hub's ("SESR-M5 (uncollapsed)", "Real-ESRGAN
x4plus (RRDBNet 23 blocks)"): right for the record, opaque in the wizard. Each gets a short
name for the search chart's labels, a line saying what it is for step 2's table, and the
technical title, size and AI Hub id for the tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class KnownNetwork:
    short: str  # a chart label: the chart has little room
    what: str  # what it is, after the name in step 2's table


TEACHER_KEY = "real_esrgan_x4plus"  # Best quality in the model menu: the wizard's teacher
PUBLISHED_TINY = "a published tiny upscaler"
PUBLISHED_SMALL = "a published small upscaler"
KNOWN = {
    "xlsr": KnownNetwork(short="XLSR", what=PUBLISHED_TINY),
    "quicksrnetsmall": KnownNetwork(short="QuickSRNet Small", what=PUBLISHED_TINY),
    "quicksrnetmedium": KnownNetwork(short="QuickSRNet Medium", what=PUBLISHED_TINY),
    "sesr_m5": KnownNetwork(short="SESR-M5", what=PUBLISHED_SMALL),
    "quicksrnetlarge": KnownNetwork(short="QuickSRNet Large", what=PUBLISHED_SMALL),
    "real_esrgan_general_x4v3": KnownNetwork(
        short="Real-ESRGAN general", what="a published mid-sized upscaler"
    ),
    TEACHER_KEY: KnownNetwork(short="Real-ESRGAN (Best quality)", what="23 blocks"),
    "esrgan": KnownNetwork(short="ESRGAN", what="the original large upscaler, 23 blocks"),
}


def short_name(key: str, title: str) -> str:
    """The chart's label for reference net ``key``; an unknown one keeps its ``title``."""
    known = KNOWN.get(key)
    return known.short if known else title


def network_name(key: str, title: str) -> str:
    """ "SESR-M5, a published small upscaler": step 2's name for reference net ``key``."""
    known = KNOWN.get(key)
    return f"{known.short}, {known.what}" if known else title


def network_details(key: str, title: str, params: int | None) -> str:
    """The technical facts behind the name, for its tooltip: "SESR-M5 (uncollapsed), 343,000
    parameters (AI Hub model sesr_m5)"."""
    size = f", {params:,} parameters" if params else ""
    return f"{title}{size} (AI Hub model {key})"
