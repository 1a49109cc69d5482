"""Entry point of the frozen ``mfagan-studio`` executable (the desktop app)."""

import multiprocessing
import sys

from desktop_app.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a no-op unless a library starts a spawned worker
    sys.exit(main(sys.argv[1:]))
