"""Model tests run tiny tensors: one torch thread avoids OpenMP spin-waits that, on a busy
2-core machine, make millisecond convolutions take tens of times longer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
