"""``mfagan --version``: the first thing package-test asks the frozen CLI."""

from __future__ import annotations

import engine
from engine.cli import main


def test_version_flag_prints_the_engine_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mfagan {engine.__version__}"
