"""``python -m engine.nas supernet train ...``: the NAS commands without the rest of the CLI.

This is the entry point ``torchrun`` launches for multi-process supernet training, e.g.
``torchrun --standalone --nproc_per_node 2 -m engine.nas supernet train --config X --out D``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine.cli import run_commands
from engine.nas.cli import register


def main(argv: Sequence[str] | None = None) -> int:
    return run_commands(register, "MFAGAN supernet and search", argv)


if __name__ == "__main__":
    sys.exit(main())
