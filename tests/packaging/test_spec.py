"""The spec parses, and holds what the issue asks for."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


def test_spec_is_python_with_two_executables_in_one_collect():
    source = (PACKAGING / "mfagan-studio.spec").read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and hasattr(n.func, "id")]
    assert calls.count("EXE") == 2 and calls.count("COLLECT") == 1
    assert 'name="mfagan-studio"' in source and 'name="mfagan"' in source
    assert "teacher_weights.py" in source
