"""``python -m engine.nas supernet train ...``: the NAS commands without the rest of the CLI.

This is the entry point ``torchrun`` launches for multi-process supernet training, e.g.
``torchrun --standalone --nproc_per_node 2 -m engine.nas supernet train --config X --out D``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.cli import run_handler
from engine.nas.cli import register


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfagan", description="MFAGAN supernet and search")
    handlers = register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run_handler(handlers[args.command], args)


if __name__ == "__main__":
    sys.exit(main())
