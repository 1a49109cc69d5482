"""``python -m engine.distill distill|eval ...``: the commands without the rest of the CLI.

This is the entry point ``torchrun`` launches for multi-process training, e.g.
``torchrun --standalone --nproc_per_node 2 -m engine.distill distill --data DIR``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine.cli import run_commands
from engine.distill.cli import register


def main(argv: Sequence[str] | None = None) -> int:
    return run_commands(register, "MFAGAN distillation and eval", argv)


if __name__ == "__main__":
    sys.exit(main())
