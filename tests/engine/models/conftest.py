"""Model tests run tiny tensors: one torch thread avoids OpenMP spin-waits that, on a busy
2-core machine, make millisecond convolutions take tens of times longer."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread_for_every_model_test(one_torch_thread: None) -> None:
    """pytestmark does not reach the tests of a folder from its conftest; this does."""
