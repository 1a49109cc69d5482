"""Every engine and desktop_app module imports with the bundle's excluded modules missing.

The build leaves EXCLUDED_MODULES out (packaging/bundle_rules.py); a module-level import of one
of them would only break the frozen app, minutes into a build. This finds it in seconds: a
fresh interpreter where those imports fail, importing all of our modules.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import importlib, pkgutil, sys
sys.path.insert(0, "packaging")
from bundle_rules import EXCLUDED_MODULES

class Block:
    def find_spec(self, name, path=None, target=None):
        if any(name == m or name.startswith(m + ".") for m in EXCLUDED_MODULES):
            raise ModuleNotFoundError(f"No module named {name!r} (left out of the bundle)")
        return None

sys.meta_path.insert(0, Block())
for package in ("engine", "desktop_app"):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not info.name.endswith("__main__"):
            try:
                importlib.import_module(info.name)
            except ImportError as error:
                print(f"{info.name}: {error}")
"""


def test_no_module_needs_an_excluded_one():
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == "", done.stdout
