"""Time MFA configs on this computer the way its latency model is fitted (maintainers).

    .venv/bin/python resources/training/host_time.py CONFIG [CONFIG ...] [--rounds 7]

Each config's ONNX export (random weights: the time does not depend on them) runs a 512x512
photo through onnxruntime's CPU provider with 2 threads; the rounds interleave the configs,
so a burst of load from elsewhere slows one run of each rather than all runs of one. Prints
each config's fastest and median ms as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from engine.models.mfa import MFAConfig
from engine.nas.host_latency import HOST_SIZE, export_config, time_once


def main(argv: list[str]) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser()
    p.add_argument("configs", nargs="+")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    configs = [MFAConfig.decode(text) for text in args.configs]
    runs: dict[str, list[float]] = {c.encode(): [] for c in configs}
    with tempfile.TemporaryDirectory() as folder:
        paths = {c.encode(): Path(folder) / f"{c.encode()}.onnx" for c in configs}
        for config in configs:
            export_config(config, paths[config.encode()])
        for _ in range(args.rounds):
            for name, path in paths.items():
                runs[name].append(time_once(path, HOST_SIZE, args.threads))
    return {
        name: {"min_ms": round(min(ms), 1), "median_ms": round(statistics.median(ms), 1)}
        for name, ms in runs.items()
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
