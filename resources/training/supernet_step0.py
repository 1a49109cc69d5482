"""Set14 fidelity of the supernet's reference subnets *before* supernet training.

    .venv/bin/python resources/training/supernet_step0.py "$DATASETS/Set14"

Builds the supernet as ``mfagan supernet train`` starts it with mfagan-supernet.toml (seed
2, the shipped student warm-started into the leading slices, channels sorted by L1
importance), extracts the reference subnets and scores them with the ``mfagan eval``
protocol; prints JSON. The README here compares these with the trained supernet's card.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import torch

from engine.distill import export
from engine.events import Finished
from engine.measure.evaluate import EvalRequest, evaluate
from engine.models.mfa import MFAConfig
from engine.nas.reference import reference_subnets
from engine.nas.supernet import Supernet

RECIPE_SEED = 2


def main(dataset: Path) -> dict:
    torch.set_num_threads(1)
    net = Supernet(seed=RECIPE_SEED)
    net.warm_start(export.load_student(export.init_weights("default")))
    net.sort_channels_by_importance()
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name in reference_subnets(net.space):
            path = Path(tmp) / f"step0-{name}.safetensors"
            export.save_student(path, net.extract(MFAConfig.decode(name)))
            files[name] = path
        request = EvalRequest(dataset=dataset, models=tuple(map(str, files.values())))
        for event in evaluate(request):
            if isinstance(event, Finished):
                table = event.result.as_dict()["scores"]
                return {n: table[p.stem] for n, p in files.items()} | {"bicubic": table["bicubic"]}
    raise RuntimeError("evaluation ended without a result")


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1])), indent=1))
