"""Fine-tune one MFA subnet of the shipped supernet (maintainers; the NAS table in docs/NAS.md).

    .venv/bin/python resources/training/nas_finetune.py CONFIG --steps N --out RUN \
        --data T91 --data BSDS200 [--eval Set14] [--search search.json] [--resume]

Runs ``engine.nas.finetune.finetune_subnet`` with one thread (the machine is shared) and no
user-model registration; ``--search`` (the ``mfagan search --json`` output whose pick CONFIG
is) adds the search's lineage to the run card. Prints the Set14 scores as JSON.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from engine.events import Finished
from engine.models.mfa import MFAConfig
from engine.nas.finetune import finetune_subnet


def main(argv: list[str]) -> dict:
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path, action="append", required=True)
    p.add_argument("--eval", type=Path, action="append", default=[])
    p.add_argument("--search", type=Path)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    search = json.loads(args.search.read_text(encoding="utf-8")) if args.search else {}
    command = shlex.join([".venv/bin/python", "resources/training/nas_finetune.py", *argv])
    result = None
    for event in finetune_subnet(
        None,
        MFAConfig.decode(args.config),
        steps=args.steps,
        data=args.data,
        out=args.out,
        search={k: search[k] for k in ("target", "search", "pick") if k in search},
        eval_datasets=args.eval,
        command=command,
        resume=args.resume,
    ):
        if isinstance(event, Finished):
            result = event.result
        elif getattr(event, "step", None) and event.step % 10 == 0:
            print(f"step {event.step}", file=sys.stderr, flush=True)
    return {"student": str(result.student), "evaluation": result.evaluation}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), indent=2))
