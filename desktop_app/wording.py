"""Engine messages in the window's own words, and counts written for people.

The engine speaks to the command line: its errors end in hints such as "use --backend
torch" or "choose another --out folder". The window has no flags, so each hint it can meet
is rewritten to name the control that does the same here; a flag with no known hint is
named by what it sets. A page where a flag means something of its own (the phone wizard's
run folder is its pick, not a name) passes its own hints first.
"""

from __future__ import annotations

import re

Hints = tuple[tuple[str, str], ...]

# Whole hints, as the engine writes them; checked before the single flags below.
HINTS: Hints = (
    ("pick a profile with --device instead", "pick the closest profile in the list instead"),
    ("use --backend torch", "choose PyTorch as the Backend (under Advanced)"),
    ("use --backend onnx", "choose ONNX Runtime as the Backend (under Advanced)"),
    ("(e.g. --scale 2)", "(e.g. Size ×2)"),
    ("leave out --format or rename one", "choose an output Format or rename one"),
    (
        "(--overwrite replaces it)",
        "(never replaced: tick “Skip images whose result already exists” or choose another "
        "output folder)",
    ),
    ("resume with --resume", "Resume continues from there"),
    (
        "pass --resume to continue it or choose another --out folder",
        "Resume continues it, or choose another name",
    ),
    (
        "start the run again without --resume or in another --out folder",
        "start a new run under another name",
    ),
    (
        "use another --out folder or the same settings",
        "go back to the settings it was started with, or start a new run under another name",
    ),
    ("choose another --out", "choose another bundle folder"),
    ("give at least one --data folder", "add a folder of your photos"),
    ("pass --supernet FILE", "the app needs its shipped supernet file"),
    ("train from scratch without --init", "it trains a new one from scratch instead"),
)

# A flag with a value, then a flag alone: what it sets, in the window's words.
_VALUE_FLAGS = (
    (re.compile(r"--tile (\d+)"), r"a tile size of \1 px"),
    (re.compile(r"--size (\d+)"), r"a size of \1 px"),
    (re.compile(r"--init (\S+?):"), r"the starting model “\1”:"),
)
FLAG_WORDS = {
    "backend": "the Backend",
    "data": "the photos folder",
    "device": "the phone profile",
    "format": "the output Format",
    "init": "the starting model",
    "out": "the output folder",
    "overwrite": "replacing files",
    "resume": "Resume",
    "scale": "the Size",
    "size": "the size",
    "supernet": "the supernet file",
    "tile": "the Tile size",
}
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def in_gui_words(text: str, hints: Hints = ()) -> str:
    """``text`` with every command-line hint and flag it holds said as the window says it."""
    if "--" not in text:
        return text
    for cli, gui in (*hints, *HINTS):
        text = text.replace(cli, gui)
    for pattern, words in _VALUE_FLAGS:
        text = pattern.sub(words, text)
    return _FLAG.sub(lambda flag: FLAG_WORDS.get(flag[1], f"“{flag[1]}”"), text)


def count(number: int, thing: str, things: str | None = None) -> str:
    """ "1 step", "2 steps" (``things`` where the plural is not ``thing`` + "s")."""
    return f"{number} {thing if number == 1 else things or thing + 's'}"


def first_upper(text: str) -> str:
    """ "tile size auto (budget 1.2 GiB)" -> "Tile size auto (budget 1.2 GiB)": unlike
    ``str.capitalize`` the rest is kept as it is ("GiB", "ONNX", file names)."""
    return text[:1].upper() + text[1:]


# ---- an upscale's progress, as the window says it ------------------------------------------

# The first run of a model on a computer exports it for the fast runtimes and times each of
# them (engine: ensure_onnx, runtime_choice); both are cached, so later runs only load it.
# The pages show a stage they do not know by its name, so this stage is named in words. No
# duration: it depends on the model and on this computer, and nothing measures it first.
FIRST_USE_STAGE = "preparing the model for this computer (first use only)"

# Models that are plain arithmetic, no AI: memory and runtimes are not worth a word for them.
NO_AI_MODELS = frozenset({"bicubic"})


def tile_choice_words(tile: int) -> str:
    """What ``auto``'s tile size means for the user, without the memory budget behind it
    (TileChoice's own message is the command line's); only said when a photo takes more
    than one tile."""
    return f"upscaling piece by piece ({tile} px squares) so the photo fits in memory"
