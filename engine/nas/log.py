"""metrics.csv of a supernet run: one row per step, as it happens (``tail -f``-able).

A resumed run first drops the rows after its checkpoint (and a half-written last row left by
``kill -9``), so the file always describes one continuous run.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from engine.distill.report import atomic_write_bytes
from engine.nas.sandwich import LOSS_KEYS

FIELDS = ("step", "seconds", *LOSS_KEYS)


class StepLog:
    def __init__(self, path: Path, *, keep_until: int) -> None:
        self.path = path
        rows = [
            r
            for r in self.read()
            if None not in r.values() and r["step"].isdigit() and int(r["step"]) <= keep_until
        ]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_bytes(path, buffer.getvalue().encode())

    def read(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="") as file:
            return list(csv.DictReader(file))

    def append(self, step: int, seconds: float, losses: dict[str, float]) -> None:
        row = {"step": step, "seconds": f"{seconds:.4f}"}
        row |= {key: repr(losses[key]) for key in LOSS_KEYS if key in losses}
        with self.path.open("a", newline="") as file:
            csv.DictWriter(file, fieldnames=FIELDS).writerow(row)
