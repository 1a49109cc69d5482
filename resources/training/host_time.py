"""Time MFA configs on this computer the way its latency model is fitted (maintainers).

    .venv/bin/python resources/training/host_time.py CONFIG [CONFIG ...] [--rounds 7]

Each config's ONNX export (random weights: the time does not depend on them) runs a 512x512
photo through onnxruntime's CPU provider with 2 threads; the rounds interleave the configs
(``engine.nas.host_latency.time_config_runs``), so a burst of load from elsewhere slows one
run of each rather than all runs of one. Prints each config's fastest and median ms as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from engine.models.mfa import MFAConfig
from engine.nas.host_latency import HOST_SIZE, time_config_runs


def main(argv: list[str]) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser()
    p.add_argument("configs", nargs="+")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    configs = [MFAConfig.decode(text) for text in args.configs]
    job = time_config_runs(configs, HOST_SIZE, args.threads, rounds=args.rounds)
    while True:  # progress events are not shown; the generator's return value is the runs
        try:
            next(job)
        except StopIteration as done:
            runs = done.value
            break
    return {
        c.encode(): {"min_ms": round(min(ms), 1), "median_ms": round(statistics.median(ms), 1)}
        for c, ms in zip(configs, runs, strict=True)
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
