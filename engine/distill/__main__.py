"""``python -m engine.distill distill|eval ...``: the commands without the rest of the CLI.

This is the entry point ``torchrun`` launches for multi-process training, e.g.
``torchrun --standalone --nproc_per_node 2 -m engine.distill distill --data DIR``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.cli import run_handler
from engine.distill.cli import register


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfagan", description="MFAGAN distillation and eval")
    handlers = register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run_handler(handlers[args.command], args)


if __name__ == "__main__":
    sys.exit(main())
