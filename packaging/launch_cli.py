"""Entry point of the frozen ``mfagan`` executable (the CLI)."""

import multiprocessing
import sys

from engine.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a no-op unless a library starts a spawned worker
    sys.exit(main())
