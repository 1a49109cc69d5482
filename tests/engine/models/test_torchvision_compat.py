"""The torchvision shim: spandrel imports in a fresh interpreter, and a healthy or absent
torchvision is left alone. Subprocesses, because torchvision's import state is global."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_spandrel_imports_after_the_shim() -> None:
    result = _run(
        """
        from engine.models._torchvision_compat import ensure_torchvision_importable
        ensure_torchvision_importable()
        ensure_torchvision_importable()  # a second call is a no-op
        import spandrel
        print("archs", len(spandrel.MAIN_REGISTRY.architectures()))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "archs" in result.stdout


def test_shim_does_nothing_when_torchvision_already_imports() -> None:
    # Simulate a healthy torchvision: the op already exists, so the first import succeeds
    # and the shim must not define anything (a second definition would be an error).
    result = _run(
        """
        import sys, types
        fake = types.ModuleType("torchvision")
        sys.modules["torchvision"] = fake
        from engine.models import _torchvision_compat as compat
        compat.ensure_torchvision_importable()
        assert compat._library is None
        assert sys.modules["torchvision"] is fake
        print("untouched")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "untouched" in result.stdout
